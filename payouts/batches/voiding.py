"""Voiding a draft payout batch: its claims on the ledger are released, its lines stay as the record.

The batch's payout_items are the claims that keep two batches from paying one ledger amount; deleting
them returns its amounts to the pool, so the next batch takes them. The lines stay, saying what the
voided batch held, and a voided batch counts toward no year-to-date base (year_to_date.COUNTED_STATES).
Only a draft is voided: an approved batch may already be at the bank, and is paid as approved.
"""

from __future__ import annotations

from sqlalchemy import delete

from core.db import db, utcnow
from payouts.batches.lifecycle import BatchError
from payouts.batches.models import PayoutBatch, PayoutItem


def void_batch(batch: PayoutBatch, reason: str, actor: str) -> PayoutBatch:
    """Void the draft and commit."""
    void_in_transaction(batch, reason, actor)
    db.session.commit()
    return batch


def void_in_transaction(batch: PayoutBatch, reason: str, actor: str) -> None:
    """Void the draft in the current transaction, uncommitted (a rebuild commits it with its new draft)."""
    reason = reason.strip()
    if not reason:
        raise BatchError("give a reason for voiding the batch")
    # The row lock makes a void and an approval of one draft take turns; the second sees the first's state.
    db.session.refresh(batch, with_for_update=True)
    if batch.state != "draft":
        db.session.rollback()
        raise BatchError(not_a_draft(batch, "voided"))
    db.session.execute(delete(PayoutItem).where(PayoutItem.batch_id == batch.id))
    batch.state, batch.voided_at, batch.voided_by, batch.void_reason = "voided", utcnow(), actor, reason
    db.session.flush()


def not_a_draft(batch: PayoutBatch, verb: str) -> str:
    """Why a batch past draft cannot be voided or rebuilt, and what happens to a reversal instead."""
    if batch.state == "voided":
        return f"batch {batch.id} is already voided ({batch.void_reason})"
    return (
        f"batch {batch.id} is {batch.state}; only a draft can be {verb}. A batch is paid as approved: a "
        "commission reversed since it was built is clawed back when the batch is marked paid, and the next "
        "batch nets the clawback"
    )
