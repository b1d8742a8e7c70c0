"""The append-only ledger every commission balance is derived from.

A ledger row is never updated or deleted. Money is born in *items* (``accrued`` commissions, ``adjusted``
lines, ``clawed_back`` lines owed back) and every later step is a new row that *settles* one item
(``settles_id``): ``approved`` or ``reversed`` settle an accrual, ``clawed_back`` settles a paid accrual
(and is itself an item the next payout nets). An item's status is the strongest step that settles it
(see ``payouts.ledger.queries``).

``paid`` settles nothing: one row per payout line (``payout_line_id``) records that the bank paid the
line's total, and an item counts as paid when a paid line holds it (``payouts.ledger.payments``). Rows
written before revision 0011 paid one item each and settle it; they still count.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Model, UtcDateTime, check_in, utcnow

ENTRY_KINDS = ("accrued", "approved", "reversed", "clawed_back", "paid", "adjusted")
ITEM_KINDS = ("accrued", "adjusted")  # rows that stand alone; every other kind but 'paid' settles another row
ROLES = ("partner", "parent")
# The columns an INSERT ... SELECT fills for a row that settles an item (an approval, a clawback), in order.
SETTLEMENT_COLUMNS = (
    "partner_id",
    "offer_id",
    "conversion_id",
    "kind",
    "settles_id",
    "amount_minor",
    "currency",
    "actor",
    "reason",
    "created_at",
)  # the converting partner, or its parent earning an override on it


class LedgerEntry(Model):
    __tablename__ = "ledger_entries"
    __table_args__ = (
        # A conversion is recorded once, but accrue() could still be reached twice (a retried job, a
        # future re-pricing tool): one accrual per conversion, partner and role, whatever the caller does.
        UniqueConstraint("conversion_id", "partner_id", "role", name="uq_ledger_entries_accrual"),
        # One approval, one reversal and one clawback per item (and one payment, for the per-item 'paid'
        # rows written before 0011). Two approval runs at once (worker and CLI, two workers) both try to
        # insert; this key lets exactly one row in.
        UniqueConstraint("settles_id", "kind", name="uq_ledger_entries_settlement"),
        CheckConstraint(check_in("kind", ENTRY_KINDS), name="kind"),
        CheckConstraint("role IS NULL OR " + check_in("role", ROLES), name="role"),
        CheckConstraint(
            "(kind = 'accrued') = (role IS NOT NULL)"
            " AND (kind = 'accrued') = (approve_after IS NOT NULL)"
            " AND (kind <> 'accrued' OR conversion_id IS NOT NULL)",
            name="accrual_fields",
        ),
        CheckConstraint(f"({check_in('kind', ITEM_KINDS)}) = (settles_id IS NULL) OR kind = 'paid'", name="settles"),
        # A payment names its batch; one that settles no item pays a payout line, whose items it paid
        # (payouts.ledger.payments). Only the per-item payments before 0011 settle an item.
        CheckConstraint("kind <> 'paid' OR payout_batch_id IS NOT NULL", name="payment_batch"),
        CheckConstraint("(payout_line_id IS NOT NULL) = (kind = 'paid' AND settles_id IS NULL)", name="line_payment"),
        # One payment per payout line: a retried or concurrent mark-paid cannot pay a line twice. Also the
        # lookup behind "is this item paid", which no other index can answer (a partial index on kind =
        # 'paid' lost to the kind index while the statistics had not yet seen any payment).
        UniqueConstraint("payout_line_id", name="uq_ledger_entries_payout_line"),
        CheckConstraint("kind NOT IN ('accrued', 'approved') OR amount_minor >= 0", name="credit_sign"),
        CheckConstraint("kind NOT IN ('reversed', 'clawed_back') OR amount_minor <= 0", name="debit_sign"),
        CheckConstraint(
            "kind <> 'adjusted' OR (amount_minor <> 0 AND length(trim(reason)) > 0)", name="adjustment_reason"
        ),
        # Balances and commission lists are per partner; caps read a partner's accruals on one offer.
        Index("ix_ledger_entries_partner_kind", "partner_id", "kind", "currency"),
        Index("ix_ledger_entries_partner_offer", "partner_id", "offer_id", "kind"),
        # approve_due() scans accruals by due time.
        Index("ix_ledger_entries_kind_approve_after", "kind", "approve_after"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("partners.id"))
    offer_id: Mapped[int | None] = mapped_column(ForeignKey("offers.id"))
    conversion_id: Mapped[int | None] = mapped_column(ForeignKey("conversions.id"))
    kind: Mapped[str] = mapped_column(String(16))
    role: Mapped[str | None] = mapped_column(String(8))  # accruals only
    settles_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_entries.id"))
    # Signed: positive is owed to the partner (accrued, approved, paid), negative cancels or claws back.
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    approve_after: Mapped[datetime | None] = mapped_column(UtcDateTime)  # accruals only
    payout_batch_id: Mapped[int | None] = mapped_column(ForeignKey("payout_batches.id"))  # 'paid' rows only
    payout_line_id: Mapped[int | None] = mapped_column(ForeignKey("payout_lines.id"))  # a line's payment only
    actor: Mapped[str] = mapped_column(String(64))
    # An adjustment's reason; for an accrual, the rule that priced it in words.
    reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
