"""Writing the points ledger: accrue from a source, reverse what a source earned, release, expire, adjust.

Every function appends rows (``channel.points.models``) and never changes one. ``accrue``,
``reverse_source`` and ``adjust`` run in the caller's transaction (a sell-out upload's points commit or
roll back with its lines) and only flush; ``release_due`` and ``expire_due`` are whole runs and commit.

Locking: every write that reads a partner's earlier rows first locks the partner row
(``payouts.ledger.locks.lock_partners``, the house's one partner lock), then, when it draws on the fund,
the fund row; always in that order, so two writers never wait on each other in a circle.

A return after the points were spent: ``reverse_source`` still takes back everything the source earned
(less what already expired, which the partner has lost once), so the company's available balance may
go negative; later accruals net it, and nothing can be spent until it is positive again.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import literal, select
from sqlalchemy.exc import IntegrityError

from channel.points.balances import remaining_of, settled_by
from channel.points.funds import PointsRefused, check_draw, lock_active_fund
from channel.points.models import PointsEntry
from core.db import UtcDateTime, db, dialect_insert, utcnow
from payouts.ledger.locks import lock_partners

SYSTEM_ACTOR = "points"
RELEASE_COLUMNS = ("fund_id", "partner_id", "kind", "points", "settles_id", "reason", "actor", "created_at")


@dataclass(frozen=True)
class Refusal:
    """An accrual that did not happen, and why (the fund is exhausted, there is no fund)."""

    reason: str


def add_months(moment: datetime, months: int) -> datetime:
    """The same day ``months`` later, or that month's last day (31 January + 1 month = 28/29 February)."""
    month_index = moment.month - 1 + months
    year, month = moment.year + month_index // 12, month_index % 12 + 1
    return moment.replace(year=year, month=month, day=min(moment.day, calendar.monthrange(year, month)[1]))


def check_entry(points: int, actor: str) -> None:
    """Refuse a count that is not a positive whole number, or an entry with no one named as its author."""
    if isinstance(points, bool) or not isinstance(points, int) or points <= 0:
        raise PointsRefused(f"points must be a positive whole number, not {points!r}")
    if not actor or not actor.strip():
        raise PointsRefused("a points entry needs the name of who made it")


def _lock_partner(partner_id: int) -> None:
    if not lock_partners([partner_id]):
        raise PointsRefused(f"partner {partner_id} does not exist")


def _accrual_of(source_kind: str, source_id: int) -> PointsEntry | None:
    return db.session.scalar(
        select(PointsEntry).where(
            PointsEntry.source_kind == source_kind, PointsEntry.source_id == source_id, PointsEntry.kind == "accrued"
        )
    )


def accrue(
    partner_id: int, points: int, source_kind: str, source_id: int, occurred_at: datetime, actor: str = SYSTEM_ACTOR
) -> PointsEntry | Refusal:
    """Accrue ``points`` that ``(source_kind, source_id)`` earned, pending through the fund's return window.

    A source accrues once: called again it answers the first accrual. Refused (not raised) when there is
    no fund or it has fewer points left than asked; nothing is written then.
    """
    check_entry(points, actor)
    _lock_partner(partner_id)
    existing = _accrual_of(source_kind, source_id)
    if existing is not None:
        return existing
    try:
        fund = lock_active_fund()
        check_draw(fund, points)
    except PointsRefused as refusal:
        return Refusal(str(refusal))
    entry = PointsEntry(
        fund_id=fund.id,
        partner_id=partner_id,
        kind="accrued",
        points=points,
        source_kind=source_kind,
        source_id=source_id,
        release_after=occurred_at + timedelta(days=fund.return_window_days),
        expires_at=add_months(occurred_at, fund.expiry_months),
        actor=actor.strip(),
    )
    try:
        # The partner lock does not cover one source accrued for two partners at once; the unique
        # source key does, and the loser answers the winner's accrual.
        with db.session.begin_nested():
            db.session.add(entry)
    except IntegrityError:
        winner = _accrual_of(source_kind, source_id)
        if winner is None:
            raise
        return winner
    return entry


def reverse_source(source_kind: str, source_id: int, actor: str, reason: str) -> PointsEntry | None:
    """Take back what the source earned (less what already expired); None when it earned nothing.

    Pending or released, spent or not: see the module docstring for a balance this leaves negative.
    Called again it answers the first reversal.
    """
    accrual = _accrual_of(source_kind, source_id)
    if accrual is None:
        return None
    _lock_partner(accrual.partner_id)
    steps = {
        step.kind: step for step in db.session.scalars(select(PointsEntry).where(PointsEntry.settles_id == accrual.id))
    }
    if "reversed" in steps:
        return steps["reversed"]
    expired = -steps["expired"].points if "expired" in steps else 0
    entry = PointsEntry(
        fund_id=accrual.fund_id,
        partner_id=accrual.partner_id,
        kind="reversed",
        points=-(accrual.points - expired),
        source_kind=source_kind,
        source_id=source_id,
        settles_id=accrual.id,
        actor=(actor or SYSTEM_ACTOR).strip(),
        reason=reason.strip(),
    )
    db.session.add(entry)
    db.session.flush()
    return entry


def release_due(now: datetime | None = None) -> int:
    """Release every accrual whose return window has passed; safe beside another run (the settlement key)."""
    now = now or utcnow()
    accrual = PointsEntry
    due = select(
        accrual.fund_id,
        accrual.partner_id,
        literal("released"),
        literal(0),
        accrual.id,
        literal("return window passed"),
        literal(SYSTEM_ACTOR),
        literal(now, UtcDateTime()),
    ).where(
        accrual.kind == "accrued",
        accrual.release_after <= now,
        ~settled_by(accrual, "released", "reversed", "expired"),
    )
    # Without the partner lock: a release only makes points spendable, and a lot reversed meanwhile is
    # left out of every spend by its reversal whether or not it was also released.
    statement = dialect_insert(PointsEntry).from_select(RELEASE_COLUMNS, due).on_conflict_do_nothing()
    released = len(db.session.execute(statement.returning(PointsEntry.id)).all())
    db.session.commit()
    return released


def _due_lots(now: datetime):
    lot = PointsEntry
    return select(lot, remaining_of(lot)).where(
        lot.expires_at <= now, ~settled_by(lot, "reversed", "expired"), remaining_of(lot) > 0
    )


def expire_due(now: datetime | None = None) -> int:
    """Post an ``expired`` entry for what is left of every lot past its expiry; one transaction per partner."""
    now = now or utcnow()
    partners = db.session.scalars(select(_due_lots(now).subquery().c.partner_id).distinct()).all()
    db.session.rollback()
    expired = 0
    for partner_id in sorted(partners):
        # Locked first, then read again: a spend of this partner either finished (less is left to
        # expire) or waits and no longer finds the lot.
        lock_partners([partner_id])
        for lot, left in db.session.execute(_due_lots(now).where(PointsEntry.partner_id == partner_id)).all():
            db.session.add(_expiry(lot, int(left), now))
            expired += 1
        db.session.commit()
    return expired


def _expiry(lot: PointsEntry, left: int, now: datetime) -> PointsEntry:
    return PointsEntry(
        fund_id=lot.fund_id,
        partner_id=lot.partner_id,
        person_id=lot.person_id,
        kind="expired",
        points=-left,
        settles_id=lot.id,
        reason=f"expired on {lot.expires_at:%Y-%m-%d}" if lot.expires_at else "expired",
        actor=SYSTEM_ACTOR,
        created_at=now,
    )


def adjust(partner_id: int, points: int, reason: str, actor: str) -> PointsEntry:
    """Add (drawn from the fund, spendable at once) or take away points by hand, with the reason and who."""
    if not reason or not reason.strip():
        raise PointsRefused("an adjustment needs a reason")
    if isinstance(points, bool) or not isinstance(points, int) or points == 0:
        raise PointsRefused(f"an adjustment must be a non-zero whole number of points, not {points!r}")
    check_entry(abs(points), actor)
    _lock_partner(partner_id)
    fund = lock_active_fund()
    if points > 0:
        check_draw(fund, points)
    now = utcnow()
    entry = PointsEntry(
        fund_id=fund.id,
        partner_id=partner_id,
        kind="adjusted",
        points=points,
        expires_at=add_months(now, fund.expiry_months) if points > 0 else None,
        reason=reason.strip(),
        actor=actor.strip(),
        created_at=now,
    )
    db.session.add(entry)
    db.session.flush()
    return entry
