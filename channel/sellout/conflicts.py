"""The serial conflict queue: one serial reported by two partners, and an admin's choice of who sold it.

The first line booked holds the serial and earns; the second is booked without points and queued. The
winner keeps (or gets) the serial and its points; the loser's points, if any, are reversed. The conflict
row is locked while it is resolved, so two admins resolving it at once take turns and the second is told
it is resolved already.
"""

from __future__ import annotations

from sqlalchemy import select

from channel.points.ledger import Refusal, accrue, reverse_source
from channel.sellout.booking import SOURCE_KIND, sale_moment
from channel.sellout.models import SelloutLine, SerialConflict
from core.db import db, utcnow


class ConflictRefused(ValueError):
    """A resolution that cannot be made (resolved already, a winner that is neither line)."""


def lock_conflict(conflict_id: int) -> SerialConflict | None:
    statement = select(SerialConflict).where(SerialConflict.id == conflict_id).with_for_update()
    return db.session.scalars(statement.execution_options(populate_existing=True)).one_or_none()


def resolve_conflict(conflict: SerialConflict, winner_line_id: int, actor: str) -> SerialConflict:
    """Give the serial to ``winner_line_id`` (the holder's or the claimant's line). The caller commits."""
    if conflict.state != "open":
        raise ConflictRefused(f"conflict {conflict.id} was resolved already (winner line {conflict.winner_line_id})")
    if winner_line_id not in (conflict.holder_line_id, conflict.claimant_line_id):
        raise ConflictRefused(
            f"winner_line_id must be line {conflict.holder_line_id} (holder) or {conflict.claimant_line_id} (claimant)"
        )
    holder = db.session.get(SelloutLine, conflict.holder_line_id)
    claimant = db.session.get(SelloutLine, conflict.claimant_line_id)
    assert holder is not None and claimant is not None  # foreign keys
    loser = claimant if winner_line_id == holder.id else holder
    reverse_source(SOURCE_KIND, loser.id, actor, f"serial {conflict.serial} given to line {winner_line_id}")
    if winner_line_id == claimant.id:
        _move_claim(holder, claimant, actor)
    conflict.state, conflict.winner_line_id = "resolved", winner_line_id
    conflict.resolved_by, conflict.resolved_at = actor, utcnow()
    db.session.flush()
    return conflict


def _move_claim(holder: SelloutLine, claimant: SelloutLine, actor: str) -> None:
    """The claimant takes the serial (flushed in that order: one live claim at a time) and earns its points."""
    serial = holder.serial_claim or claimant.serial
    holder.serial_claim = None
    db.session.flush()
    if not claimant.live:
        return  # its upload was undone meanwhile: the serial is free, and nothing earns it
    claimant.serial_claim = serial
    db.session.flush()
    if claimant.points > 0:
        answer = accrue(
            claimant.partner_id, claimant.points, SOURCE_KIND, claimant.id, sale_moment(claimant.invoice_date), actor
        )
        if isinstance(answer, Refusal):
            claimant.note = answer.reason
