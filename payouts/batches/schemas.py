"""What the payout batch endpoints accept and answer. Amounts are decimal strings in the batch currency."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field, StringConstraints

from core.api.schemas import Currency, Strict
from payouts.batches.models import BATCH_STATES, LINE_STATUSES

Amount = Annotated[str, StringConstraints(pattern=r"^\d+(\.\d+)?$")]


class BatchIn(Strict):
    period_end: date = Field(description="Amounts approved on or before this day are paid.")
    currency: Currency
    payout_date: date | None = Field(None, description="The day the tax rates apply; default period_end.")
    minimum_payout: Amount = Field("0", description="Partners owed less are held and carried over.")


class LineOut(BaseModel):
    partner_id: int
    amount: str = Field(description="What the ledger owes in this batch, clawbacks netted.")
    gross: str
    withholding: str
    contributions: str
    vat: str
    net: str = Field(description="Cash to the partner: gross - withholding + VAT.")
    company_cost: str = Field(description="gross + VAT + contributions.")
    regime: str | None
    status: Literal[LINE_STATUSES]  # type: ignore[valid-type]
    held_reason: str | None


class TotalsOut(BaseModel):
    amount: str
    gross: str
    withholding: str
    contributions: str
    vat: str
    net: str
    company_cost: str


class BatchOut(BaseModel):
    id: int
    period_end: date
    currency: str
    payout_date: date
    state: Literal[BATCH_STATES]  # type: ignore[valid-type]
    minimum_payout: str
    created_at: datetime
    created_by: str
    approved_at: datetime | None
    paid_at: datetime | None
    lines: list[LineOut]
    totals: TotalsOut
