"""Spending points and handing them to a partner's people: oldest lots first, each use recorded.

A spend (or a transfer to a person) is refused beyond the available balance; otherwise it takes what
is left of the spendable lots in order of expiry and records in ``points_allocations`` how many points
came from which lot, so an expiry later takes only what no spend used. Both run in the caller's
transaction under the partner's lock (a reward order commits its points with its order).

A person's points are a sub-balance of the company's: the rows with ``person_id`` set. A transfer
writes the company's ``transfer_out`` (consuming its lots) and the person's ``transfer_in``, a lot that
expires when the oldest lot it came from would have: points never live longer by changing hands.
"""

from __future__ import annotations

from collections import OrderedDict
from datetime import datetime

from channel.points.balances import balance, live_lots
from channel.points.funds import PointsRefused
from channel.points.ledger import SYSTEM_ACTOR
from channel.points.models import PointsAllocation, PointsEntry
from core.db import db
from core.people.models import Person
from payouts.ledger.locks import lock_partners


def _check(partner_id: int, person_id: int | None, points: int) -> None:
    if isinstance(points, bool) or not isinstance(points, int) or points <= 0:
        raise PointsRefused(f"points must be a positive whole number, not {points!r}")
    if not lock_partners([partner_id]):
        raise PointsRefused(f"partner {partner_id} does not exist")
    available = balance(partner_id, person_id).available
    if points > available:
        raise PointsRefused(f"only {max(available, 0)} points available, {points} asked")


def _oldest(partner_id: int, person_id: int | None, points: int) -> OrderedDict[int, list[tuple[int, int, datetime]]]:
    """Per fund, in order: (lot id, points taken, lot's expiry) until ``points`` are covered."""
    taken: OrderedDict[int, list[tuple[int, int, datetime]]] = OrderedDict()
    wanted = points
    for lot_id, left, expires_at, fund_id in db.session.execute(live_lots(partner_id, person_id, spendable=True)):
        take = min(int(left), wanted)
        taken.setdefault(fund_id, []).append((lot_id, take, expires_at))
        wanted -= take
        if wanted == 0:
            return taken
    # The balance is never more than the lots hold (negative rows only lower it), so this means a bug.
    raise RuntimeError(f"partner {partner_id}: available balance is not covered by its lots")


def _consume(
    partner_id: int, person_id: int | None, points: int, kind: str, actor: str, reason: str
) -> list[tuple[PointsEntry, datetime]]:
    """One ``kind`` entry per fund the points came from, with its allocations, and the earliest expiry used."""
    written = []
    for fund_id, lots in _oldest(partner_id, person_id, points).items():
        entry = PointsEntry(
            fund_id=fund_id,
            partner_id=partner_id,
            person_id=person_id,
            kind=kind,
            points=-sum(take for _, take, _ in lots),
            actor=actor,
            reason=reason,
        )
        db.session.add(entry)
        db.session.flush()
        db.session.add_all(PointsAllocation(entry_id=entry.id, lot_id=lot_id, points=take) for lot_id, take, _ in lots)
        written.append((entry, min(expires_at for _, _, expires_at in lots)))
    db.session.flush()
    return written


def spend(
    partner_id: int, points: int, actor: str = SYSTEM_ACTOR, reason: str = "", *, person_id: int | None = None
) -> list[PointsEntry]:
    """Spend the company's (or, with ``person_id``, that person's) points, oldest first; refused beyond
    the available balance. One ``spent`` entry per fund the points came from: one, unless funds changed."""
    if person_id is not None:
        _person_of(partner_id, person_id)
    _check(partner_id, person_id, points)
    return [entry for entry, _ in _consume(partner_id, person_id, points, "spent", actor.strip(), reason.strip())]


def _person_of(partner_id: int, person_id: int) -> Person:
    person = db.session.get(Person, person_id)
    if person is None or person.role != "partner" or person.partner_id != partner_id or not person.active:
        raise PointsRefused(f"person {person_id} is not one of partner {partner_id}'s active people")
    return person


def transfer(partner_id: int, person_id: int, points: int, actor: str, reason: str = "") -> list[PointsEntry]:
    """Hand ``points`` of the company's available balance to one of its people; answers the person's entries."""
    _person_of(partner_id, person_id)
    _check(partner_id, None, points)
    note = reason.strip() or f"to person {person_id}"
    received = []
    for out, expires_at in _consume(partner_id, None, points, "transfer_out", actor.strip(), note):
        entry = PointsEntry(
            fund_id=out.fund_id,
            partner_id=partner_id,
            person_id=person_id,
            kind="transfer_in",
            points=-out.points,
            expires_at=expires_at,
            actor=actor.strip(),
            reason=reason.strip() or "from the company",
        )
        received.append(entry)
    db.session.add_all(received)
    db.session.flush()
    return received
