"""The public application form and the admins' rejection form: every field's size bounded, no control characters."""

from __future__ import annotations

import re
from collections.abc import Callable
from urllib.parse import urlsplit

import pycountry
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, Field, Form, SelectField, StringField, TextAreaField, URLField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, ValidationError

from core.people.accounts import PersonError, normal_email
from tracker.applications.models import (
    COMPANY_MAX,
    CONTACT_NAME_MAX,
    EMAIL_MAX,
    PROMOTION_MAX,
    REASON_MAX,
    WEBSITE_MAX,
)
from tracker.applications.tax_ids import TaxIdInvalid, checked_tax_id
from tracker.program.labels import PARTNER_KIND_NAMES, choices

# What a person may type as given: one line for names and numbers; tabs and line breaks in prose too.
ONE_LINE_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
PROSE_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029]")
# Longer than any country's tax id written with spaces and dashes; compacted it must fit the column.
TAX_ID_INPUT_MAX = 64


def no_control_characters(prose: bool = False) -> Callable[[Form, Field], None]:
    pattern = PROSE_CONTROL if prose else ONE_LINE_CONTROL

    def check(form: Form, field: Field) -> None:
        if pattern.search(field.data or ""):
            raise ValidationError(_l("Remove the control characters (invisible characters) from this field."))

    return check


def sized(limit: int, prose: bool = False) -> list[object]:
    """The checks every text field gets: filled in, at most ``limit`` characters, no control characters."""
    return [
        DataRequired(_l("Fill in this field.")),
        Length(max=limit, message=_l("Use at most %(max)d characters.", max=limit)),
        no_control_characters(prose),
    ]


def country_choices() -> list[SelectChoice]:
    countries = sorted(pycountry.countries, key=lambda country: country.name)
    return [SelectChoice("", "—")] + [SelectChoice(c.alpha_2, f"{c.name} ({c.alpha_2})") for c in countries]


class ApplicationForm(FlaskForm):
    company = StringField(_l("Company"), validators=sized(COMPANY_MAX))
    contact_name = StringField(_l("Your name"), validators=sized(CONTACT_NAME_MAX))
    email = EmailField(_l("Email"), validators=sized(EMAIL_MAX))
    kind = SelectField(_l("How you work with us"), choices=choices(PARTNER_KIND_NAMES))
    country = SelectField(
        _l("Country of the company"), choices=country_choices(), validators=[DataRequired(_l("Choose a country."))]
    )
    tax_id = StringField(_l("Tax id"), validators=sized(TAX_ID_INPUT_MAX))
    website = URLField(_l("Website"), validators=sized(WEBSITE_MAX))
    promotion = TextAreaField(_l("How you will promote our offers"), validators=sized(PROMOTION_MAX, prose=True))

    def validate_email(self, field: Field) -> None:
        try:
            normal_email(field.data or "")
        except PersonError:
            raise ValidationError(_l("This is not an email address.")) from None

    def validate_tax_id(self, field: Field) -> None:
        if not self.country.data or field.errors:
            return
        try:
            checked_tax_id(self.country.data, field.data or "")
        except TaxIdInvalid as error:
            raise ValidationError(_l("Not a valid tax id for this country: %(reason)s", reason=str(error))) from None

    def validate_website(self, field: Field) -> None:
        parts = urlsplit(field.data or "")
        if parts.scheme not in ("http", "https") or not parts.hostname or " " in (field.data or ""):
            raise ValidationError(_l("Give the full address, starting with https://"))


class RejectionForm(FlaskForm):
    reason = TextAreaField(
        _l("Reason (shown to admins; tell the applicant yourself)"),
        validators=[
            DataRequired(_l("Give the reason for the rejection.")),
            Length(max=REASON_MAX, message=_l("Use at most %(max)d characters.", max=REASON_MAX)),
            no_control_characters(prose=True),
        ],
    )
