"""Reading the points ledger: balances, lots with what is left of them, entries; all SQL sums over the rows.

A partner company's balance is its rows without a person: ``total`` is the sum of their points,
``pending`` the points of accruals no ``released``, ``reversed`` or ``expired`` row has settled yet,
and ``available = total - pending``. A person's balance is the sum of the rows with its ``person_id``
(it has nothing pending). What is left of a lot is its points less what spends and transfers
allocated from it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, Select, and_, case, exists, func, or_, select
from sqlalchemy.orm import aliased

from channel.points.models import PointsAllocation, PointsEntry
from core.db import db

PAGE_MAX = 500


@dataclass(frozen=True)
class PointsBalance:
    partner_id: int
    person_id: int | None
    total: int
    pending: int
    held_by_people: int  # the company's points handed to its people (0 on a person's own balance)
    expiring_next: int  # what is left of the lots expiring first (within a day of it)
    expiring_at: datetime | None

    @property
    def available(self) -> int:
        """Spendable now; negative after a return took back points already spent (see the README)."""
        return self.total - self.pending


def settled_by(lot: type[PointsEntry], *kinds: str) -> ColumnElement[bool]:
    step = aliased(PointsEntry)
    return exists().where(step.settles_id == lot.id, step.kind.in_(kinds))


def remaining_of(lot: type[PointsEntry]) -> ColumnElement[int]:
    """The lot's points less what spends and transfers took from it (a correlated sum)."""
    taken = select(func.coalesce(func.sum(PointsAllocation.points), 0)).where(PointsAllocation.lot_id == lot.id)
    return lot.points - taken.scalar_subquery()


def is_pending(entry: type[PointsEntry]) -> ColumnElement[bool]:
    return and_(entry.kind == "accrued", ~settled_by(entry, "released", "reversed", "expired"))


def owner_is(entry: type[PointsEntry], partner_id: int, person_id: int | None) -> ColumnElement[bool]:
    person = entry.person_id.is_(None) if person_id is None else entry.person_id == person_id
    return and_(entry.partner_id == partner_id, person)


def live_lots(partner_id: int, person_id: int | None, *, spendable: bool) -> Select:
    """(lot id, points left, expires_at, fund_id) oldest expiry first: lots not reversed or expired with points left.

    ``spendable`` leaves out accruals still in the return window.
    """
    lot = PointsEntry
    left = remaining_of(lot)
    accrual = lot.kind == "accrued"
    if spendable:
        accrual = and_(accrual, settled_by(lot, "released"))
    kinds = or_(accrual, and_(lot.kind == "adjusted", lot.points > 0), lot.kind == "transfer_in")
    return (
        select(lot.id, left.label("left"), lot.expires_at, lot.fund_id)
        .where(owner_is(lot, partner_id, person_id), kinds, ~settled_by(lot, "reversed", "expired"), left > 0)
        .order_by(lot.expires_at, lot.id)
    )


def balance(partner_id: int, person_id: int | None = None) -> PointsBalance:
    entry = PointsEntry
    mine = owner_is(entry, partner_id, person_id)
    total, pending = db.session.execute(
        select(
            func.coalesce(func.sum(entry.points), 0),
            func.coalesce(func.sum(case((is_pending(entry), entry.points), else_=0)), 0),
        ).where(mine)
    ).one()
    people: int | None = 0
    if person_id is None:
        people = db.session.scalar(
            select(func.coalesce(func.sum(entry.points), 0)).where(
                entry.partner_id == partner_id, entry.person_id.is_not(None)
            )
        )
    expiring, expiring_at = _expiring_next(partner_id, person_id)
    return PointsBalance(partner_id, person_id, int(total), int(pending), int(people or 0), expiring, expiring_at)


def _expiring_next(partner_id: int, person_id: int | None) -> tuple[int, datetime | None]:
    lots = live_lots(partner_id, person_id, spendable=False).subquery()
    first = db.session.scalar(select(func.min(lots.c.expires_at)))
    if first is None:
        return 0, None
    same_day = (lots.c.expires_at >= first) & (lots.c.expires_at < first + timedelta(days=1))
    points = db.session.scalar(select(func.coalesce(func.sum(lots.c.left), 0)).where(same_day))
    return int(points or 0), first


def entries(
    partner_id: int | None, *, person_id: int | None = None, limit: int = 100, offset: int = 0
) -> list[PointsEntry]:
    """Entries newest first, one partner's (or every one's for ``None``), optionally one person's."""
    statement = select(PointsEntry)
    if partner_id is not None:
        statement = statement.where(PointsEntry.partner_id == partner_id)
    if person_id is not None:
        statement = statement.where(PointsEntry.person_id == person_id)
    statement = statement.order_by(PointsEntry.id.desc()).limit(min(limit, PAGE_MAX)).offset(offset)
    return list(db.session.scalars(statement))


def expiring_within(now: datetime, days: int) -> list[tuple[int, int | None, int, datetime]]:
    """(partner_id, person_id, points left, first expiry) for every owner with lots expiring within ``days``:
    whom to tell before their points expire."""
    lot = PointsEntry
    left = remaining_of(lot)
    due = and_(
        lot.expires_at > now,
        lot.expires_at <= now + timedelta(days=days),
        ~settled_by(lot, "reversed", "expired"),
        left > 0,
    )
    rows = db.session.execute(
        select(lot.partner_id, lot.person_id, func.sum(left), func.min(lot.expires_at))
        .where(due)
        .group_by(lot.partner_id, lot.person_id)
        .order_by(lot.partner_id, lot.person_id)
    )
    return [(partner, person, int(points), first) for partner, person, points, first in rows]
