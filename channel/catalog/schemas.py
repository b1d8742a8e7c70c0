"""What the catalogue API (and the file import, row by row) accepts and answers; every field checked first."""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, BeforeValidator, Field, StringConstraints, model_validator
from pydantic_core import PydanticCustomError
from spectree.model_adapter.pydantic_adapter import BaseFile

from channel.catalog.models import MAX_MULTIPLIER, SKU_MAX_LENGTH
from channel.catalog.serials import check_serial_pattern
from core.api.schemas import ListQuery, Strict
from core.money import ExactAmount, InvalidAmount, minor_digits, to_minor
from tracker.program.schemas import Name

_SKU = re.compile(r"[A-Z0-9][A-Z0-9._-]*")
_FAMILY_CODE = re.compile(r"[a-z0-9][a-z0-9_-]*")


def _sku(value: str) -> str:
    # Upper case, so a sell-out row that retypes "ab-100" finds "AB-100"; no '/' so it can stand in a URL path.
    sku = value.upper()
    if not _SKU.fullmatch(sku):
        raise PydanticCustomError(
            "sku", "may hold only letters A-Z, digits, '.', '_' and '-', and starts with a letter or digit"
        )
    return sku


def _family_code(value: str) -> str:
    code = value.lower()
    if not _FAMILY_CODE.fullmatch(code):
        raise PydanticCustomError(
            "family", "may hold only letters a-z, digits, '_' and '-', starting with a letter or digit"
        )
    return code


def _currency(value: str) -> str:
    try:
        minor_digits(value)
    except InvalidAmount as error:
        raise PydanticCustomError("currency", str(error)) from None
    return value


def _exact(value: Any) -> Any:
    # The app reads JSON fractions as Decimal (core/api/jsonio.py); a float here means exactness was lost.
    if isinstance(value, float):
        raise PydanticCustomError("exact", 'must be exact: send a decimal string or number, e.g. "1.5"')
    return value


Sku = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=SKU_MAX_LENGTH), AfterValidator(_sku)
]
FamilyCode = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=32), AfterValidator(_family_code)
]
PartnerTier = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]{0,31}$")]
IsoCurrency = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$"), AfterValidator(_currency)]
Points = Annotated[int, Field(ge=0, le=1_000_000, description="Whole points earned per unit sold.")]
Multiplier = Annotated[
    Decimal,
    BeforeValidator(_exact),
    Field(gt=0, le=MAX_MULTIPLIER, decimal_places=3, description="Points are multiplied by this; up to 3 decimals."),
]
Percent = Annotated[Decimal, BeforeValidator(_exact), Field(ge=0, le=999, decimal_places=2)]
SerialPattern = Annotated[
    str,
    AfterValidator(check_serial_pattern),
    Field(
        description="A regular expression the whole serial must match; no backreferences, lookarounds, "
        "or repeated groups holding quantifiers."
    ),
]
BAND_HELP = "Percent below / above the list price a reported unit price may lie; both or neither (program default)."


def _refuse_nulls(model: BaseModel, fields: tuple[str, ...]) -> None:
    for field in fields:
        if field in model.model_fields_set and getattr(model, field) is None:
            raise PydanticCustomError("not_null", "{field} cannot be null", {"field": field})


def _together(model: BaseModel, first: str, second: str) -> None:
    if (first in model.model_fields_set) != (second in model.model_fields_set) or (
        (getattr(model, first) is None) != (getattr(model, second) is None)
    ):
        raise PydanticCustomError("together", "{a} and {b} come together", {"a": first, "b": second})


def _check_band(model: Any) -> None:
    below = model.price_below_percent
    if below is not None and below > 100:
        raise PydanticCustomError("band", "price_below_percent must be at most 100")


class FamilyIn(Strict):
    code: FamilyCode
    name: Name
    serial_pattern: SerialPattern | None = None
    price_below_percent: Percent | None = Field(None, description=BAND_HELP)
    price_above_percent: Percent | None = None

    @model_validator(mode="after")
    def _band(self) -> FamilyIn:
        if (self.price_below_percent is None) != (self.price_above_percent is None):
            raise PydanticCustomError("together", "price_below_percent and price_above_percent come together")
        _check_band(self)
        return self


class FamilyPatch(Strict):
    name: Name | None = None
    serial_pattern: SerialPattern | None = Field(None, description="null: the family's products carry no serial.")
    price_below_percent: Percent | None = Field(None, description=BAND_HELP)
    price_above_percent: Percent | None = None

    @model_validator(mode="after")
    def _fields(self) -> FamilyPatch:
        _refuse_nulls(self, ("name",))
        if {"price_below_percent", "price_above_percent"} & self.model_fields_set:
            _together(self, "price_below_percent", "price_above_percent")
        _check_band(self)
        return self


class FamilyOut(BaseModel):
    code: str
    name: str
    serial_pattern: str | None
    price_below_percent: str | None = Field(description="Decimal string; null means the program's default band.")
    price_above_percent: str | None
    created_at: datetime


class FamilyList(BaseModel):
    items: list[FamilyOut]


def _list_price_fits(amount: Decimal | None, currency: str | None) -> None:
    if amount is None or currency is None:
        return
    try:
        to_minor(amount, currency)
    except InvalidAmount as error:
        raise PydanticCustomError("list_price", "list_price: {reason}", {"reason": str(error)}) from None


def _eligibility(start: date | None, end: date | None) -> None:
    if start is not None and end is not None and end < start:
        raise PydanticCustomError("eligibility", "eligible_to must not be before eligible_from")


class ProductIn(Strict):
    sku: Sku
    name: Name
    family: FamilyCode
    list_price: ExactAmount = Field(description='In the currency\'s major unit, as a decimal string: "199.90".')
    currency: IsoCurrency
    points_per_unit: Points
    eligible_from: date
    eligible_to: date | None = Field(None, description="Last eligible day (included); null: no end.")
    active: bool = True

    @model_validator(mode="after")
    def _consistent(self) -> ProductIn:
        _list_price_fits(self.list_price, self.currency)
        _eligibility(self.eligible_from, self.eligible_to)
        return self


class ProductPatch(Strict):
    name: Name | None = None
    family: FamilyCode | None = None
    list_price: ExactAmount | None = Field(None, description="Send with currency.")
    currency: IsoCurrency | None = None
    points_per_unit: Points | None = None
    eligible_from: date | None = None
    eligible_to: date | None = None
    active: bool | None = None

    @model_validator(mode="after")
    def _consistent(self) -> ProductPatch:
        _refuse_nulls(self, ("name", "family", "list_price", "currency", "points_per_unit", "eligible_from", "active"))
        if {"list_price", "currency"} & self.model_fields_set:
            _together(self, "list_price", "currency")
        _list_price_fits(self.list_price, self.currency)
        _eligibility(self.eligible_from, self.eligible_to)
        return self


class ProductOut(BaseModel):
    sku: str
    name: str
    family: str
    list_price: str = Field(description="Decimal string in currency, every digit the currency has.")
    currency: str
    points_per_unit: int
    eligible_from: date
    eligible_to: date | None
    active: bool
    created_at: datetime
    updated_at: datetime


class ProductList(BaseModel):
    items: list[ProductOut]


class ProductQuery(ListQuery):
    family: FamilyCode | None = None
    active: bool | None = None
    eligible_on: date | None = Field(None, description="Only products eligible on this day.")
    q: Annotated[str, StringConstraints(min_length=1, max_length=100)] | None = Field(
        None, description="Part of the SKU or name, any case."
    )


class PromotionIn(Strict):
    name: Name
    multiplier: Multiplier
    sku: Sku | None = None
    family: FamilyCode | None = None
    partner_tier: PartnerTier | None = None
    starts_on: date
    ends_on: date = Field(description="Last day (included).")

    @model_validator(mode="after")
    def _target_and_days(self) -> PromotionIn:
        if sum(target is not None for target in (self.sku, self.family, self.partner_tier)) != 1:
            raise PydanticCustomError("target", "name exactly one of sku, family and partner_tier")
        if self.ends_on < self.starts_on:
            raise PydanticCustomError("dates", "ends_on must not be before starts_on")
        return self


class PromotionPatch(Strict):
    name: Name | None = None
    multiplier: Multiplier | None = None
    starts_on: date | None = None
    ends_on: date | None = None

    @model_validator(mode="after")
    def _no_nulls(self) -> PromotionPatch:
        _refuse_nulls(self, ("name", "multiplier", "starts_on", "ends_on"))
        return self


class PromotionOut(BaseModel):
    id: int
    name: str
    multiplier: str = Field(description='Decimal string with three decimals, e.g. "1.500".')
    sku: str | None
    family: str | None
    partner_tier: str | None
    starts_on: date
    ends_on: date
    created_at: datetime


class PromotionList(BaseModel):
    items: list[PromotionOut]


class PromotionQuery(ListQuery):
    sku: Sku | None = None
    family: FamilyCode | None = None
    partner_tier: PartnerTier | None = None
    on: date | None = Field(None, description="Only promotions running on this day.")


class ImportForm(Strict):
    file: BaseFile = Field(description="CSV (UTF-8, comma or semicolon) or XLSX with the documented header.")


class RejectedRow(BaseModel):
    row: int = Field(description="The row's number in the file; the header is row 1.")
    sku: str | None
    reason: str


class ImportOut(BaseModel):
    rows_read: int
    created: int
    updated: int
    unchanged: int
    rejected: list[RejectedRow]
