"""Bulk points writes for a whole sell-out upload: ``accrue_many`` and ``reverse_many``.

They follow ``channel.points.ledger``'s ``accrue`` and ``reverse_source`` rule for rule (the tests compare the
entries each writes) with one partner lock per partner and one statement per chunk of sources, so a
100,000-line upload books and undoes in seconds. Like those, they only flush; the caller commits.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Row, select

from channel.points.funds import PointsRefused, drawn, exhausted, lock_active_fund
from channel.points.ledger import SYSTEM_ACTOR, Refusal, add_months, check_entry
from channel.points.models import PointsEntry, PointsFund
from core.db import db, dialect_insert, utcnow
from payouts.ledger.locks import lock_partners


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
        check_entry(item.points, actor)
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
