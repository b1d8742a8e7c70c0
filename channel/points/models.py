"""The bonus points ledger: append-only entries per partner, spend allocations, and the bonus fund.

A row is never updated or deleted; every balance is a SQL sum over the rows (``channel.points.balances``).

*Lots* are the rows that bring points a partner (or one of its people) can spend: an ``accrued`` row
(pending until ``release_after``, spendable once a ``released`` row settles it), a positive ``adjusted``
row (spendable at once) and a person's ``transfer_in``. Each lot carries ``expires_at``. The steps that
settle an accrual (``released``, ``reversed``, ``expired``) name it in ``settles_id``; ``expired`` also
settles an adjustment or a person's lot. ``spent`` and ``transfer_out`` consume lots oldest first and
record which in ``points_allocations``.

The program's settings (return window, expiry, notice) are columns of the one active fund: they change
when the fund does, and a second settings table would only ever have one row beside it.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, CheckConstraint, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy import text as sql
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Model, UtcDateTime, check_in, utcnow

ENTRY_KINDS = ("accrued", "released", "reversed", "expired", "spent", "adjusted", "transfer_out", "transfer_in")
SETTLING_KINDS = ("released", "reversed", "expired")
CONSUMING_KINDS = ("spent", "transfer_out")  # the kinds whose points are allocated to lots
PERSON_KINDS = ("transfer_in", "spent", "expired")  # the only kinds a person's sub-balance has


class PointsFund(Model):
    __tablename__ = "points_funds"
    __table_args__ = (
        CheckConstraint("budget_points > 0", name="budget"),
        CheckConstraint("point_value_minor >= 0", name="point_value"),
        CheckConstraint("return_window_days >= 0 AND expiry_months > 0 AND notice_days >= 0", name="settings"),
        # One active fund: every accrual draws on it, so two would leave "which one" to chance.
        Index(
            "uq_points_funds_active",
            "active",
            unique=True,
            postgresql_where=sql("active"),
            sqlite_where=sql("active"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    budget_points: Mapped[int] = mapped_column(BigInteger)
    point_value_minor: Mapped[int] = mapped_column(Integer)  # what one point costs, in the currency's minor unit
    currency: Mapped[str] = mapped_column(String(3))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    return_window_days: Mapped[int] = mapped_column(Integer, default=14)
    expiry_months: Mapped[int] = mapped_column(Integer, default=24)
    notice_days: Mapped[int] = mapped_column(Integer, default=30)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class PointsEntry(Model):
    __tablename__ = "points_entries"
    __table_args__ = (
        # A sell-out line (or any source) accrues once and is reversed once, however often the caller
        # retries: the second insert fails here instead of counting the points twice.
        UniqueConstraint("source_kind", "source_id", "kind", name="uq_points_entries_source"),
        # One release, one reversal, one expiry per lot: a release run beside another inserts nothing.
        UniqueConstraint("settles_id", "kind", name="uq_points_entries_settlement"),
        CheckConstraint(check_in("kind", ENTRY_KINDS), name="kind"),
        CheckConstraint("person_id IS NULL OR " + check_in("kind", PERSON_KINDS), name="person_kinds"),
        CheckConstraint("kind <> 'transfer_in' OR person_id IS NOT NULL", name="transfer_person"),
        CheckConstraint(f"(settles_id IS NOT NULL) = ({check_in('kind', SETTLING_KINDS)})", name="settles"),
        CheckConstraint(
            "(source_id IS NOT NULL) = (kind IN ('accrued', 'reversed'))"
            " AND (source_kind IS NULL) = (source_id IS NULL)",
            name="source",
        ),
        CheckConstraint("kind <> 'accrued' OR (points > 0 AND release_after IS NOT NULL)", name="accrual"),
        CheckConstraint(
            "(expires_at IS NOT NULL) = (kind IN ('accrued', 'transfer_in') OR (kind = 'adjusted' AND points > 0))",
            name="expiry",
        ),
        CheckConstraint("kind <> 'released' OR points = 0", name="release_points"),
        CheckConstraint("kind <> 'reversed' OR points <= 0", name="reversal_sign"),
        CheckConstraint("kind NOT IN ('expired', 'spent', 'transfer_out') OR points < 0", name="debit_sign"),
        CheckConstraint("kind <> 'transfer_in' OR points > 0", name="transfer_sign"),
        CheckConstraint("kind <> 'adjusted' OR (points <> 0 AND length(trim(reason)) > 0)", name="adjustment"),
        # Balances are per partner (and person); the release and expiry scans go by kind and due time.
        Index("ix_points_entries_partner_person", "partner_id", "person_id", "kind"),
        Index("ix_points_entries_kind_release_after", "kind", "release_after"),
        Index("ix_points_entries_expires_at", "expires_at"),
        Index("ix_points_entries_fund_kind", "fund_id", "kind"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    fund_id: Mapped[int] = mapped_column(ForeignKey("points_funds.id"))
    partner_id: Mapped[int] = mapped_column(ForeignKey("partners.id"))
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))  # set: a person's sub-balance
    kind: Mapped[str] = mapped_column(String(16))
    points: Mapped[int] = mapped_column(BigInteger)  # signed: positive adds to the balance
    source_kind: Mapped[str | None] = mapped_column(String(32))  # accruals and reversals: what earned them
    source_id: Mapped[int | None] = mapped_column(BigInteger)
    settles_id: Mapped[int | None] = mapped_column(ForeignKey("points_entries.id"))
    release_after: Mapped[datetime | None] = mapped_column(UtcDateTime)  # accruals: end of the return window
    expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime)  # lots only
    reason: Mapped[str] = mapped_column(Text, default="")
    actor: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class PointsAllocation(Model):
    """How many of a spend's (or transfer's) points came from which lot."""

    __tablename__ = "points_allocations"
    __table_args__ = (
        UniqueConstraint("entry_id", "lot_id", name="uq_points_allocations_entry_lot"),
        CheckConstraint("points > 0", name="points"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("points_entries.id"))
    lot_id: Mapped[int] = mapped_column(ForeignKey("points_entries.id"), index=True)
    points: Mapped[int] = mapped_column(BigInteger)
