"""What the conversion, deal-registration and coupon endpoints accept and answer."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

from core.api.limits import INT_COLUMN_MAX, RowId
from core.api.schemas import Currency, Strict
from core.money import ExactAmount

OrderId = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=128)]
EventName = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,63}$")]
Text = Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)]


class CustomerIn(Strict):
    email: Annotated[str, StringConstraints(max_length=254)] | None = None
    company_domain: Annotated[str, StringConstraints(max_length=253)] | None = None
    tax_id: Annotated[str, StringConstraints(max_length=64)] | None = None


class ConversionIn(Strict):
    offer: RowId | Annotated[str, StringConstraints(min_length=1, max_length=64)] = Field(
        description="The offer's slug or id."
    )
    event: EventName = Field(description="lead, sale, or a custom event the offer defines.")
    order_id: OrderId
    amount: ExactAmount | None = Field(None, description="Decimal string or integer, in the currency's major unit.")
    currency: Currency | None = None
    occurred_at: AwareDatetime | None = Field(None, description="Default: when the request arrives.")
    token: Annotated[str, StringConstraints(max_length=64)] | None = None
    ref_code: Annotated[str, StringConstraints(max_length=32)] | None = None
    coupon: Annotated[str, StringConstraints(max_length=64)] | None = None
    customer: CustomerIn | None = None


class ConversionEventOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    from_status: str | None
    to_status: str
    actor: str
    reason: str
    created_at: datetime


class ConversionOut(BaseModel):
    id: int
    offer_id: int
    event: str
    order_id: str
    amount: str | None
    currency: str | None
    occurred_at: datetime
    source: str
    status: str
    partner_id: int | None
    attributed_by: str | None = Field(description="token, ref_code, coupon, customer, deal, or null.")
    click_id: int | None
    review_reasons: list[str]
    attribution_notes: dict
    events: list[ConversionEventOut] = []


class ConversionList(BaseModel):
    items: list[ConversionOut]


class ConversionQuery(Strict):
    status: Literal["pending", "review", "approved", "rejected", "reversed"] | None = None
    offer_id: RowId | None = None
    limit: int = Field(100, ge=1, le=1000)
    offset: int = Field(0, ge=0, le=INT_COLUMN_MAX)


class StatusChangeIn(Strict):
    reason: Text = ""


class DealRegistrationIn(Strict):
    offer_id: RowId
    partner_id: RowId | None = Field(None, description="Required with an admin key.")
    company_domain: Annotated[str, StringConstraints(max_length=253)] | None = None
    tax_id: Annotated[str, StringConstraints(max_length=64)] | None = None
    company_name: Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)] = ""


class DealRegistrationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    offer_id: int
    partner_id: int
    key_type: str
    key_value: str
    company_name: str
    registered_at: datetime
    expires_at: datetime
    note: str


class DealRegistrationList(BaseModel):
    items: list[DealRegistrationOut]


class ReassignIn(Strict):
    partner_id: RowId
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]


class CouponIn(Strict):
    code: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{3,64}$")]
    partner_id: RowId
    offer_id: RowId


class CouponOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    code: str
    partner_id: int
    offer_id: int
    created_at: datetime


class CouponList(BaseModel):
    items: list[CouponOut]
