"""What the payout batch endpoints accept and answer. Amounts are decimal strings in the batch currency."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field, StringConstraints

from core.api.schemas import Currency, Strict
from payouts.batches.models import BATCH_STATES, LINE_STATUSES
from payouts.batches.rebuild import CHANGES

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


class VoidIn(Strict):
    reason: str = Field(pattern=r"\S", max_length=500, description="Why the draft is voided; kept on the batch.")


class ChangeOut(BaseModel):
    partner_id: int
    change: Literal[CHANGES]  # type: ignore[valid-type]
    reason: str = Field(description="What happened to the line since the replaced draft was built, and why.")


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
    voided_at: datetime | None
    voided_by: str | None
    void_reason: str | None
    rebuilt_from: int | None = Field(description="The voided draft this batch was rebuilt from.")
    rebuilt_as: int | None = Field(description="For a draft voided by a rebuild: the batch that replaced it.")
    changes: list[ChangeOut] = Field(
        description="For a rebuilt batch: each partner whose line differs from the replaced draft's, and why."
    )
    lines: list[LineOut]
    totals: TotalsOut
