"""The catalogue page's forms, and what each one sends the API's own schemas.

Every value stays text on its way to the schema (ProductQuery, FamilyIn, PromotionIn), so a wrong value is
refused with the API's message, shown next to its field; a field left blank is a field the request leaves out.
"""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import SelectField, StringField
from wtforms.fields.choices import SelectChoice

from channel.catalog.models import ProductFamily
from channel.catalog.sheets import MAX_FILE_BYTES, MAX_ROWS

ACTIVE_CHOICES = (("", _l("All")), ("true", _l("Active")), ("false", _l("Withdrawn")))


def _filled(form: FlaskForm, names: tuple[str, ...]) -> dict[str, Any]:
    """The named fields' text, stripped, leaving out the blank ones (as a request leaving them out)."""
    values = {name: (getattr(form, name).data or "").strip() for name in names}
    return {name: value for name, value in values.items() if value}


def family_choices(families: list[ProductFamily], blank: str) -> list[SelectChoice]:
    return [SelectChoice("", blank)] + [SelectChoice(f.code, f"{f.name} ({f.code})") for f in families]


class ProductFilterForm(FlaskForm):
    class Meta:
        csrf = False  # a GET filter changes nothing

    q = StringField(_l("SKU or name"))
    # Unknown codes go to ProductQuery, which says what is wrong with them.
    family = SelectField(_l("Family"), validate_choice=False)
    active = SelectField(_l("Status"), choices=[SelectChoice(value, label) for value, label in ACTIVE_CHOICES])

    def query_values(self) -> dict[str, Any]:
        return _filled(self, ("q", "family", "active"))


class ImportForm(FlaskForm):
    file = FileField(
        _l("Catalogue file (CSV or XLSX)"),
        validators=[FileRequired(_l("Choose the CSV or XLSX file."))],
        description=_l(
            "At most %(mib)s MiB and %(rows)s rows; row 1 is the header.", mib=MAX_FILE_BYTES // 2**20, rows=MAX_ROWS
        ),
    )


class FamilyForm(FlaskForm):
    code = StringField(_l("Code"))
    name = StringField(_l("Name"))
    serial_pattern = StringField(_l("Serial pattern (optional)"))
    price_below_percent = StringField(_l("Price may be below list by, %"))
    price_above_percent = StringField(_l("Price may be above list by, %"))

    def api_values(self) -> dict[str, Any]:
        """FamilyIn's fields; code and name always, so a blank one is refused rather than left out."""
        optional = _filled(self, ("serial_pattern", "price_below_percent", "price_above_percent"))
        return {"code": self.code.data or "", "name": self.name.data or ""} | optional


class PromotionForm(FlaskForm):
    name = StringField(_l("Name"))
    multiplier = StringField(_l("Multiplier"))
    sku = StringField(_l("SKU"))
    family = SelectField(_l("Family"), validate_choice=False)
    partner_tier = StringField(_l("Partner tier"))
    starts_on = StringField(_l("Starts on"))
    ends_on = StringField(_l("Ends on (included)"))

    def api_values(self) -> dict[str, Any]:
        """PromotionIn's fields: name, multiplier and days always, and whichever targets were filled in."""
        required = {name: (getattr(self, name).data or "").strip() for name in ("multiplier", "starts_on", "ends_on")}
        return {"name": self.name.data or ""} | required | _filled(self, ("sku", "family", "partner_tier"))
