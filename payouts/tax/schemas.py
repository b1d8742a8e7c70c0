"""What the tax API accepts and answers. Shapes only: numbers and regimes are checked by payouts.tax.profiles."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictStr,
    StringConstraints,
    model_validator,
)

from core.api.limits import RowId
from core.api.schemas import Strict
from core.money import MAX_AMOUNT_MINOR, parse_decimal
from payouts.tax.models import FORM_NAMES, PAYS, PROFILE_KINDS

# What core.money.to_minor takes in a two-digit currency; "1e30" or "1e999999" overflowed Decimal's context in
# the engine's rounding (a 500) before this bound.
LARGEST_AMOUNT = Decimal(MAX_AMOUNT_MINOR).scaleb(-2)


def _decimal_text(value: str) -> str:
    # InvalidAmount is a ValueError, so pydantic reports parse_decimal's reason as the field's.
    number = parse_decimal(value)
    if number < 0:
        raise ValueError(f"{value!r} must be an amount of 0 or more")
    if number > LARGEST_AMOUNT:
        raise ValueError(f"{value!r} must not exceed {LARGEST_AMOUNT:f}")
    return value


Code = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
Number = Annotated[str, StringConstraints(strip_whitespace=True, max_length=64)]
DecimalText = Annotated[
    StrictStr, StringConstraints(strip_whitespace=True, min_length=1, max_length=32), AfterValidator(_decimal_text)
]
# Flags as JSON booleans, rates and amounts as decimal strings: JSON numbers are refused, as in the presets.
Inputs = dict[Annotated[str, StringConstraints(max_length=64)], StrictBool | StrictStr]


class FormIn(Strict):
    form: Literal[FORM_NAMES]  # type: ignore[valid-type]
    signed_on: date
    expires_on: date | None = Field(None, description="Required for W-8BEN and W-8BEN-E.")


class TaxProfileIn(Strict):
    kind: Literal[PROFILE_KINDS]  # type: ignore[valid-type]
    country: Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=2)]
    tax_resident: bool
    tax_id: Number | None = Field(None, description="INN (RU), VAT number (EU), SSN/ITIN/EIN (US).")
    vat_registered: bool = False
    vat_number: Number | None = None
    regime_code: Code
    pays: Literal[PAYS] = Field(  # type: ignore[valid-type]
        "gross", description="net: the program grosses the payout up so the partner receives the commission."
    )
    regime_inputs: Inputs = Field(default_factory=dict, max_length=20)
    iban: Number | None = None
    bic: Number | None = None
    account_holder: Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)] | None = None
    forms: list[FormIn] = Field(default_factory=list, max_length=20)
    self_billing_agreement: bool = False


class FormOut(BaseModel):
    form: str
    signed_on: date
    expires_on: date | None


class TaxProfileOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    partner_id: int
    kind: str
    country: str
    tax_resident: bool
    tax_id: str | None
    vat_registered: bool
    vat_number: str | None
    regime_code: str
    pays: str
    regime_inputs: dict[str, bool | str]
    iban: str | None
    bic: str | None
    account_holder: str | None
    forms: list[FormOut]
    self_billing_agreement: bool
    updated_at: datetime
    unpayable_reason: str | None = Field(None, description="Why a payout today would be refused, or null.")


class QuoteIn(Strict):
    regime: Code | None = Field(None, description="A regime code; or give partner_id.")
    partner_id: RowId | None = Field(None, description="Its tax profile supplies regime, inputs and basis.")
    amount: DecimalText
    basis: Literal["gross", "net"] | None = None
    payout_date: date
    paid_this_year: DecimalText | None = Field(
        None,
        description="Gross this payer already paid the payee this year; default: with partner_id, the gross of "
        "the partner's approved, exported and paid batches this year under the regime, else 0.",
    )
    inputs: Inputs = Field(default_factory=dict, max_length=20, description="Over the profile's inputs.")

    @model_validator(mode="after")
    def _regime_or_partner(self):
        if self.regime is None and self.partner_id is None:
            raise ValueError("give regime or partner_id")
        return self


class QuoteOut(BaseModel):
    regime: str
    currency: str
    effective_from: date | None
    basis: str
    payout_date: date
    partner_id: int | None
    gross: str
    withholding: str
    contributions: str
    vat: str
    recoverable_vat: str
    net_to_partner: str
    company_cost: str
    applied: list[str]
    documents: list[str]
    warnings: list[str]
    blocked_reason: str | None


class VersionOut(BaseModel):
    effective_from: date
    valid_until: date | None
    rules: dict[str, Any]


class RegimeOut(BaseModel):
    code: str
    title: str
    country: str
    currency: str
    notes: list[str]
    inputs: list[str]
    versions: list[VersionOut]


class RegimeList(BaseModel):
    items: list[RegimeOut]


class RegimeEditIn(BaseModel):
    """A regime in the presets file's format (code, title, country, currency, notes, versions...).

    Checked field by field by the presets parser, which names whatever is wrong."""

    model_config = ConfigDict(extra="allow")
