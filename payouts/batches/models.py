"""Payout batches: one per run of ``payouts batch``, a line per partner, an item per ledger amount it pays.

A batch is ``draft`` while finance reviews it, ``approved`` once its lines are frozen, ``exported`` after
a file went to the bank, and ``paid`` once ``mark_paid`` appended the ledger's 'paid' rows. A draft may
be ``voided`` instead (payouts.batches.voiding): its items are released, its lines stay as the record.
Money is in integer minor units of the batch's currency.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Date,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    event,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import Model, UtcDateTime, check_in, utcnow

BATCH_STATES = ("draft", "approved", "exported", "paid", "voided")
LINE_STATUSES = ("payable", "held")
MONEY_FIELDS = (
    "gross_minor",
    "withholding_minor",
    "contributions_minor",
    "vat_minor",
    "net_minor",
    "company_cost_minor",
)


class BatchFrozen(RuntimeError):
    """A line of an approved batch was about to change; approved figures are what finance signed off."""


class PayoutBatch(Model):
    __tablename__ = "payout_batches"
    __table_args__ = (
        CheckConstraint(check_in("state", BATCH_STATES), name="state"),
        CheckConstraint("minimum_payout_minor >= 0", name="minimum_payout"),
        CheckConstraint("(state = 'voided') = (voided_at IS NOT NULL)", name="voided"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    period_end: Mapped[date] = mapped_column(Date)  # amounts approved on or before this day
    currency: Mapped[str] = mapped_column(String(3))
    payout_date: Mapped[date] = mapped_column(Date)  # the tax rates in force on this day apply
    state: Mapped[str] = mapped_column(String(10), default="draft")
    minimum_payout_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(String(64))
    approved_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    paid_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    voided_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    voided_by: Mapped[str | None] = mapped_column(String(64))
    void_reason: Mapped[str | None] = mapped_column(Text)
    # A rebuilt draft names the draft it replaced and, per partner whose line differs, what changed and
    # why ({"partner_id", "change", "reason"}); both None for a batch built from scratch.
    rebuilt_from_id: Mapped[int | None] = mapped_column(ForeignKey("payout_batches.id"))
    rebuild_changes: Mapped[list[dict] | None] = mapped_column(JSON)

    lines: Mapped[list[PayoutLine]] = relationship(back_populates="batch", order_by="PayoutLine.partner_id")


class PayoutLine(Model):
    __tablename__ = "payout_lines"
    __table_args__ = (
        UniqueConstraint("batch_id", "partner_id", name="uq_payout_lines_batch_partner"),
        CheckConstraint(check_in("status", LINE_STATUSES), name="status"),
        CheckConstraint("(status = 'held') = (held_reason IS NOT NULL)", name="held_reason"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("payout_batches.id"))
    partner_id: Mapped[int] = mapped_column(ForeignKey("partners.id"))
    # What the ledger owes the partner in this batch (approved + adjustments + outstanding clawbacks);
    # for a held line, what waits for the next batch.
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    # The tax engine's figures; all 0 on a held line, which pays nothing.
    gross_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    withholding_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    contributions_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    vat_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    net_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    company_cost_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    regime: Mapped[str | None] = mapped_column(String(64))  # None: the partner has no tax profile
    status: Mapped[str] = mapped_column(String(8))
    held_reason: Mapped[str | None] = mapped_column(Text)

    batch: Mapped[PayoutBatch] = relationship(back_populates="lines")


class PayoutItem(Model):
    __tablename__ = "payout_items"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("payout_batches.id"))
    line_id: Mapped[int] = mapped_column(ForeignKey("payout_lines.id"))
    # Unique: a ledger amount (an approved accrual, an adjustment, a clawback) belongs to one batch ever,
    # so two batches built at the same moment cannot both pay one commission (see batches.create_batch).
    ledger_entry_id: Mapped[int] = mapped_column(ForeignKey("ledger_entries.id"), unique=True)


@event.listens_for(PayoutLine, "before_update")
def _refuse_changes_after_approval(mapper, connection, line: PayoutLine) -> None:
    if line.batch is not None and line.batch.state != "draft":
        raise BatchFrozen(f"batch {line.batch_id} is {line.batch.state}; its lines no longer change")
