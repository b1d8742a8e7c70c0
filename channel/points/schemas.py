"""What the points endpoints accept and answer."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from pydantic import BaseModel, Field, StringConstraints

from core.api.limits import INT_COLUMN_MAX, RowId
from core.api.schemas import Strict

# A point count that fits the ledger's BIGINT and any sum of them.
Points = Annotated[int, Field(ge=1, le=10**12)]
Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]


class BalanceQuery(Strict):
    partner_id: RowId | None = Field(
        None, description="Required with an admin or finance key; a partner key sees itself."
    )
    person_id: RowId | None = Field(None, description="One of the partner's people: that person's sub-balance.")


class ExpiringOut(BaseModel):
    points: int = Field(description="What is left of the lots expiring first (within a day of that moment).")
    expires_at: datetime
    expires_on: date
    notice: bool = Field(description="True once the expiry is within the program's notice days.")


class BalanceOut(BaseModel):
    partner_id: int
    person_id: int | None
    available: int = Field(description="Spendable now; negative after a return took back points already spent.")
    pending: int = Field(description="Accrued, still in the return window.")
    total: int = Field(description="available + pending.")
    held_by_people: int = Field(description="Handed to the company's people (not part of the company's total).")
    expiring_next: ExpiringOut | None


class EntryQuery(Strict):
    partner_id: RowId | None = Field(
        None, description="Admin and finance: one partner, or all; a partner key sees itself."
    )
    person_id: RowId | None = None
    limit: int = Field(100, ge=1, le=500)
    offset: int = Field(0, ge=0, le=INT_COLUMN_MAX)


class EntryOut(BaseModel):
    id: int
    partner_id: int
    person_id: int | None
    kind: str = Field(description="accrued, released, reversed, expired, spent, adjusted, transfer_out or transfer_in.")
    points: int = Field(description="Signed: what the entry adds to or takes from the balance.")
    source_kind: str | None
    source_id: int | None
    settles_id: int | None = Field(description="The accrual (or lot) a release, reversal or expiry settles.")
    release_after: datetime | None
    expires_at: datetime | None
    reason: str
    actor: str
    created_at: datetime


class EntryList(BaseModel):
    items: list[EntryOut]


class FundOut(BaseModel):
    name: str
    currency: str
    point_value: str = Field(description="What one point is worth, a decimal string in the major unit.")
    budget_points: int
    drawn_points: int = Field(description="Accrued and added by hand, less reversals: what the budget has given.")
    left_points: int
    pending_points: int
    spent_points: int
    expired_points: int
    liability_points: int = Field(description="Earned and not yet spent or expired, pending included.")
    liability: str = Field(description="liability_points at the point value, a decimal string in the major unit.")
    return_window_days: int
    expiry_months: int
    notice_days: int


class PointsAdjustmentIn(Strict):
    partner_id: RowId
    points: Annotated[int, Field(ge=-(10**12), le=10**12)] = Field(description="Non-zero; negative takes points away.")
    reason: Reason


class TransferIn(Strict):
    person_id: RowId = Field(description="One of the partner's people (a portal person of role partner).")
    points: Points
    reason: Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)] = ""
