"""What the commission plan, commission, balance and adjustment endpoints accept and answer."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, StringConstraints

from core.api.limits import INT_COLUMN_MAX, RowId
from core.api.schemas import Currency, Strict
from core.money import ExactAmount
from payouts.ledger.queries import COMMISSION_STATUSES


class PlanIn(Strict):
    plan: dict[str, Any] = Field(
        description="The commission plan; its shape is described in "
        "payouts/commissions/rules.py. Money and rates are decimal strings."
    )


class PlanOut(BaseModel):
    offer_id: int
    plan: dict[str, Any]
    updated_at: datetime
    updated_by: str


class CommissionQuery(Strict):
    partner_id: RowId | None = Field(None, description="Admin and finance only; a partner key sees itself.")
    status: Literal[COMMISSION_STATUSES] | None = None  # type: ignore[valid-type]
    offer_id: RowId | None = None
    limit: int = Field(100, ge=1, le=1000)
    offset: int = Field(0, ge=0, le=INT_COLUMN_MAX)


class CommissionOut(BaseModel):
    id: int = Field(description="The accrual's ledger entry.")
    conversion_id: int
    offer_id: int
    partner_id: int
    role: str = Field(description="partner: its own conversion; parent: an override on a child's conversion.")
    event: str
    amount: str
    currency: str
    status: str = Field(description="pending, approved, reversed, paid or clawed_back.")
    conversion_status: str
    approves_on: date | None = Field(
        description="When the hold period ends (UTC); null once reversed or "
        "clawed back. A conversion held for review waits longer."
    )
    approve_after: datetime
    accrued_at: datetime
    rule: str = Field(description="The rule that priced it, in words.")


class CommissionList(BaseModel):
    items: list[CommissionOut]


class BalanceQuery(Strict):
    partner_id: RowId | None = Field(None, description="Admin and finance only; a partner key sees itself.")


class BalanceOut(BaseModel):
    partner_id: int
    currency: str
    pending: str = Field(description="Accrued, in the hold period or held for review.")
    approved: str = Field(description="Approved (and manual adjustments), not yet paid.")
    paid: str = Field(description="Paid out, net of clawbacks already recovered.")
    clawback: str = Field(
        description="Owed back for reversals of paid commissions, to be netted in the next payout: 0 or negative."
    )
    payable: str = Field(description="approved + clawback: what the next payout would pay.")


class BalanceList(BaseModel):
    items: list[BalanceOut]


class AdjustmentIn(Strict):
    partner_id: RowId
    amount: ExactAmount = Field(description='Decimal string in the major unit; negative to charge, e.g. "-120.50".')
    currency: Currency
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]


class AdjustmentOut(BaseModel):
    id: int
    partner_id: int
    amount: str
    currency: str
    reason: str
    actor: str
    created_at: datetime
