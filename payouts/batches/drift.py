"""What left the open ledger since a draft was built: its claimed amounts that were settled another way.

A draft claims its ledger amounts when it is built. A commission reversed afterwards (or clawed back, or
paid some other way) stays claimed by the draft, and approving it would pay it only to claw it back in
the next batch. So approval is refused while the draft holds any such amount, naming the partners, and
finance rebuilds it (payouts.batches.rebuild). Once approved, a batch is paid as approved: a reversal
after that is clawed back by ``mark_paid`` and netted by the next batch.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import aliased

from core.db import db
from core.money import to_major
from payouts.batches.models import PayoutBatch, PayoutItem
from payouts.ledger.models import LedgerEntry
from tracker.program.models import Partner

# Ledger steps that settle an amount, so that it is no longer open for a batch to pay; what they mean.
SETTLING_STEPS = {"reversed": "reversed", "clawed_back": "clawed back", "paid": "paid outside the batch"}
NOUNS = {"accrued": "commission", "adjusted": "adjustment", "clawed_back": "clawback"}


@dataclass(frozen=True)
class Withdrawn:
    """Amounts of one partner's line, of one kind, settled by one kind of step since the draft was built."""

    partner_id: int
    entry_kind: str
    step_kind: str
    count: int
    amount_minor: int


def withdrawn_amounts(batch: PayoutBatch) -> list[Withdrawn]:
    """The batch's claimed amounts that are no longer open, grouped per partner, entry kind and step."""
    step, entry = aliased(LedgerEntry), aliased(LedgerEntry)
    # Driven from the settling steps into the batch's items by their unique ledger_entry_id: a batch of a
    # million items costs an index lookup per settling step, not a scan of its items. One step per
    # entry (the first kind by name), so an entry both reversed and clawed back counts once.
    settled = (
        select(step.settles_id.label("entry_id"), func.min(step.kind).label("kind"))
        .join(PayoutItem, (PayoutItem.ledger_entry_id == step.settles_id) & (PayoutItem.batch_id == batch.id))
        .where(step.kind.in_(SETTLING_STEPS))
        .group_by(step.settles_id)
        .subquery()
    )
    rows = db.session.execute(
        select(entry.partner_id, entry.kind, settled.c.kind, func.count(), func.sum(entry.amount_minor))
        .join(settled, settled.c.entry_id == entry.id)
        .group_by(entry.partner_id, entry.kind, settled.c.kind)
        .order_by(entry.partner_id, entry.kind, settled.c.kind)
    )
    return [
        Withdrawn(partner, kind, step_kind, int(count), int(total)) for partner, kind, step_kind, count, total in rows
    ]


def money(amount_minor: int, currency: str) -> str:
    """For people: "1,000.00 RUB"."""
    return f"{to_major(amount_minor, currency):,f} {currency}"


def describe(withdrawn: list[Withdrawn], currency: str) -> str:
    """One partner's withdrawn amounts as text: "1 commission (1,000.00 RUB) reversed"."""
    parts = []
    for group in withdrawn:
        noun = NOUNS.get(group.entry_kind, "ledger amount") + ("" if group.count == 1 else "s")
        amount = money(group.amount_minor, currency)
        parts.append(f"{group.count} {noun} ({amount}) {SETTLING_STEPS[group.step_kind]}")
    return ", ".join(parts)


def per_partner(withdrawn: list[Withdrawn]) -> dict[int, list[Withdrawn]]:
    found: dict[int, list[Withdrawn]] = {}
    for group in withdrawn:
        found.setdefault(group.partner_id, []).append(group)
    return found


def approval_problem(batch: PayoutBatch) -> str | None:
    """Why the draft may not be approved as built, naming each partner concerned; None when it may."""
    withdrawn = per_partner(withdrawn_amounts(batch))
    if not withdrawn:
        return None
    names = dict(db.session.execute(select(Partner.id, Partner.name).where(Partner.id.in_(withdrawn))).tuples().all())
    partners = "; ".join(
        f"partner {partner_id} ({names.get(partner_id, '?')}): {describe(groups, batch.currency)}"
        for partner_id, groups in withdrawn.items()
    )
    return (
        f"batch {batch.id} no longer matches the ledger: since it was built, {partners}. "
        f"Rebuild it (POST /api/v1/payout-batches/{batch.id}/rebuild, or flask --app app payouts rebuild "
        f"--batch {batch.id}) and approve the new draft"
    )
