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
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Row, literal, select
from sqlalchemy.exc import IntegrityError

from channel.points.balances import remaining_of, settled_by
from channel.points.funds import PointsRefused, check_draw, drawn, exhausted, lock_active_fund
from channel.points.models import PointsEntry, PointsFund
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


def _require(points: int, actor: str) -> None:
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
    _require(points, actor)
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
    _require(abs(points), actor)
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


@dataclass(frozen=True)
class Accrual:
    """One accrual asked of ``accrue_many``: ``accrue``'s arguments less the source kind and actor they share."""

    partner_id: int
    points: int
    source_id: int
    occurred_at: datetime


BULK_CHUNK = 1000  # sources per statement: well under SQLite's limit on bound parameters


def accrue_many(source_kind: str, accruals: Sequence[Accrual], actor: str = SYSTEM_ACTOR) -> dict[int, int | Refusal]:
    """``accrue`` for many sources of one kind at once (a sell-out upload's lines): the same rules and locks.

    The partners are locked once (ascending, one statement), then the fund once; the accruals are then
    taken in the given order and each is refused, with ``accrue``'s words, when the fund has fewer points
    left than it asks, as calling ``accrue`` for each in turn would. A source that accrued before answers
    its first accrual. Answers, per source id, the accrual's entry id or the Refusal.
    """
    for item in accruals:
        _require(item.points, actor)
    partners = {item.partner_id for item in accruals}
    missing = partners - set(lock_partners(partners))
    if missing:
        raise PointsRefused(f"partner {min(missing)} does not exist")
    answers: dict[int, int | Refusal] = dict(_accrual_ids(source_kind, [item.source_id for item in accruals]))
    try:
        fund = lock_active_fund()
    except PointsRefused as refusal:
        return {item.source_id: answers.get(item.source_id, Refusal(str(refusal))) for item in accruals}
    left = fund.budget_points - drawn(fund.id)
    granted: list[Accrual] = []
    for item in accruals:
        if item.source_id in answers:  # accrued before, or named twice here: accrues once, as accrue would
            continue
        if item.points > left:
            answers[item.source_id] = Refusal(exhausted(fund, left, item.points))
            continue
        left -= item.points
        answers[item.source_id] = 0  # replaced by the entry's id once inserted
        granted.append(item)
    # The table's INSERT, not the ORM's bulk path: one executemany the driver pipelines, a chunk of rows
    # built at a time. A source accrued by another writer meanwhile is skipped here, answered below.
    statement = dialect_insert(PointsEntry.__table__).on_conflict_do_nothing()
    for start in range(0, len(granted), BULK_CHUNK):
        rows = [_accrual_row(fund, item, source_kind, actor.strip()) for item in granted[start : start + BULK_CHUNK]]
        db.session.execute(statement, rows)
    answers.update(_accrual_ids(source_kind, [item.source_id for item in granted]))
    return answers


def _accrual_row(fund: PointsFund, item: Accrual, source_kind: str, actor: str) -> dict:
    return {
        "fund_id": fund.id,
        "partner_id": item.partner_id,
        "kind": "accrued",
        "points": item.points,
        "source_kind": source_kind,
        "source_id": item.source_id,
        "release_after": item.occurred_at + timedelta(days=fund.return_window_days),
        "expires_at": add_months(item.occurred_at, fund.expiry_months),
        "reason": "",
        "actor": actor,
        "created_at": utcnow(),
    }


def _accrual_ids(source_kind: str, source_ids: Sequence[int]) -> dict[int, int]:
    """The accruals of these sources: source id -> entry id.

    One range scan of the source key's index between the lowest and highest id, filtered here: a
    sell-out upload's lines have consecutive ids, and long IN lists got a generic plan from PostgreSQL's
    prepared statements that scanned far more (22 s for 20,000 sources instead of 0.1 s).
    """
    if not source_ids:
        return {}
    wanted = set(source_ids)
    statement = select(PointsEntry.source_id, PointsEntry.id).where(
        PointsEntry.source_kind == source_kind,
        PointsEntry.source_id.between(min(wanted), max(wanted)),
        PointsEntry.kind == "accrued",
    )
    return {int(source): entry for source, entry in db.session.execute(statement) if source in wanted}


def reverse_many(source_kind: str, source_ids: Sequence[int], actor: str, reason: str) -> int:
    """``reverse_source`` for many sources of one kind at once (an undone upload's lines): the same rules.

    The accruals are read first, as ``reverse_source`` reads its one; their partners are then locked once
    (ascending, one statement), and only then the reversals and expiries already settling them are read:
    each source is reversed once, less what already expired, on its accrual's fund. A source that earned
    nothing or was reversed before is skipped. Answers how many reversals were written.
    """
    accruals = _accruals_of(source_kind, source_ids)
    if not accruals:
        return 0
    lock_partners({accrual.partner_id for accrual in accruals})
    steps = _settlements(accruals)
    rows = [
        _reversal_row(accrual, steps.get(accrual.id, {}), source_kind, (actor or SYSTEM_ACTOR).strip(), reason.strip())
        for accrual in accruals
        if "reversed" not in steps.get(accrual.id, {})
    ]
    # A source another writer reverses meanwhile is skipped by the settlement key, as it waits on the lock.
    statement = dialect_insert(PointsEntry.__table__).on_conflict_do_nothing()
    for start in range(0, len(rows), BULK_CHUNK):
        db.session.execute(statement, rows[start : start + BULK_CHUNK])
    return len(rows)


def _accruals_of(source_kind: str, source_ids: Sequence[int]) -> list[Row]:
    """The accruals of these sources, by one range scan of the source key (see ``_accrual_ids`` for why).

    Rows of the columns a reversal copies, not entities: 100,000 entities held ~150 MB.
    """
    wanted = set(source_ids)
    if not wanted:
        return []
    entry = PointsEntry
    statement = select(entry.id, entry.fund_id, entry.partner_id, entry.points, entry.source_id).where(
        entry.source_kind == source_kind,
        entry.source_id.between(min(wanted), max(wanted)),
        entry.kind == "accrued",
    )
    return [row for row in db.session.execute(statement.order_by(entry.id)) if row.source_id in wanted]


def _settlements(accruals: Sequence[Row]) -> dict[int, dict[str, int]]:
    """Accrual id -> {kind: points} of its reversal and expiry, read by one range scan of the settlement key."""
    ids = {accrual.id for accrual in accruals}
    statement = select(PointsEntry.settles_id, PointsEntry.kind, PointsEntry.points).where(
        PointsEntry.settles_id.between(min(ids), max(ids)), PointsEntry.kind.in_(("reversed", "expired"))
    )
    steps: dict[int, dict[str, int]] = {}
    for settles_id, kind, points in db.session.execute(statement):
        if settles_id in ids:
            steps.setdefault(settles_id, {})[kind] = points
    return steps


def _reversal_row(accrual: Row, steps: dict[str, int], source_kind: str, actor: str, reason: str) -> dict:
    expired = -steps.get("expired", 0)
    return {
        "fund_id": accrual.fund_id,
        "partner_id": accrual.partner_id,
        "kind": "reversed",
        "points": -(accrual.points - expired),
        "source_kind": source_kind,
        "source_id": accrual.source_id,
        "settles_id": accrual.id,
        "reason": reason,
        "actor": actor,
        "created_at": utcnow(),
    }
