"""The finance pages' forms. A new batch is checked by the API's own schema (schemas.BatchIn) and money
conversion, so a person and an API client are refused for the same reasons."""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from pydantic import ValidationError
from wtforms import StringField, TextAreaField
from wtforms.validators import Length

from core.money import InvalidAmount, minor_digits, to_minor
from payouts.batches.background_builds import BuildRequest
from payouts.batches.schemas import BatchIn


class BatchForm(FlaskForm):
    # Text, not DateField: the API's schema reads the ISO date and says what is wrong with it.
    period_end = StringField(_l("Period end"), render_kw={"type": "date"})
    currency = StringField(_l("Currency"), default="EUR", render_kw={"maxlength": 3, "autocapitalize": "characters"})
    payout_date = StringField(_l("Payout date"), render_kw={"type": "date"})
    minimum_payout = StringField(_l("Minimum payout"), default="0", render_kw={"inputmode": "decimal"})

    def build_request(self, actor: str) -> BuildRequest | None:
        """The build the form asks for, or None with the errors next to their fields."""
        values = {name: getattr(self, name).data or None for name in BatchIn.model_fields}
        values["minimum_payout"] = values["minimum_payout"] or "0"
        try:
            wanted = BatchIn(**{name: value for name, value in values.items() if value is not None})
        except ValidationError as error:
            for problem in error.errors():
                field = getattr(self, str(problem["loc"][0]) if problem["loc"] else "period_end")
                message = _("Required.") if problem["type"] == "missing" else problem["msg"]
                field.errors = [*field.errors, message]
            return None
        for field, check in (
            (self.currency, lambda: minor_digits(wanted.currency)),
            (self.minimum_payout, lambda: to_minor(wanted.minimum_payout, wanted.currency)),
        ):
            try:
                minimum = check()
            except InvalidAmount as error:
                field.errors = [str(error)]
                return None
        payout_date = wanted.payout_date or wanted.period_end
        return BuildRequest(wanted.period_end, wanted.currency, payout_date, minimum, actor)


class VoidForm(FlaskForm):
    # An empty reason is refused by void_batch itself, with the message the API and the CLI give.
    reason = TextAreaField(_l("Reason for voiding"), validators=[Length(max=500)])


class ConfirmForm(FlaskForm):
    """A button that changes the batch (approve, rebuild, mark paid): only its CSRF token."""
