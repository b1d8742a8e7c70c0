"""Rebuilding a draft that no longer matches the ledger: void it and build its replacement in one transaction.

The new draft has the old one's period end, currency, payout date and minimum, and records per partner
whose line differs what happened and why ("dropped: every commission in the line was reversed since
batch 12 was built"), computed while the old draft's claims still say what its lines held.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from core.db import db
from core.money import to_major
from payouts.batches.drift import SETTLING_STEPS, Withdrawn, describe, money, per_partner, withdrawn_amounts
from payouts.batches.lifecycle import BatchBusy, BatchError, create_batch
from payouts.batches.models import MONEY_FIELDS, PayoutBatch, PayoutLine
from payouts.batches.voiding import not_a_draft, void_in_transaction

CHANGES = ("dropped", "added", "re-priced", "held", "payable")


@dataclass(frozen=True)
class LineFacts:
    """What a line said: enough to tell whether its rebuilt counterpart differs, and how."""

    amount_minor: int
    status: str
    held_reason: str | None
    figures: tuple[int, ...]

    @classmethod
    def of(cls, line: PayoutLine) -> LineFacts:
        figures = tuple(getattr(line, name) for name in MONEY_FIELDS)
        return cls(line.amount_minor, line.status, line.held_reason, figures)


def rebuild_batch(draft: PayoutBatch, actor: str) -> PayoutBatch:
    """Void the draft (reason "rebuilt as batch M") and build batch M in its place; M.rebuild_changes says
    per partner what changed. Refused, the draft left as it was, when the new batch cannot be built."""
    if draft.state != "draft":
        raise BatchError(not_a_draft(draft, "rebuilt"))
    old_id = draft.id
    before = {line.partner_id: LineFacts.of(line) for line in draft.lines}
    withdrawn: dict[int, list[Withdrawn]] = {}

    def prepare() -> None:
        withdrawn.clear()
        withdrawn.update(per_partner(withdrawn_amounts(draft)))
        void_in_transaction(draft, "rebuilt", actor)  # named after the new batch once it has an id

    def created(batch: PayoutBatch) -> None:
        after = {line.partner_id: LineFacts.of(line) for line in _lines(batch)}
        draft.void_reason = f"rebuilt as batch {batch.id}"
        batch.rebuilt_from_id = old_id
        batch.rebuild_changes = line_changes(old_id, batch.currency, before, after, withdrawn)

    try:
        return create_batch(
            draft.period_end,
            draft.currency,
            draft.payout_date,
            draft.minimum_payout_minor,
            actor,
            prepare=prepare,
            created=created,
        )
    except BatchBusy:
        db.session.rollback()
        raise
    except BatchError as error:
        db.session.rollback()  # the void too: nothing changed
        raise BatchError(f"batch {old_id} was not rebuilt: {error}") from None


def _lines(batch: PayoutBatch) -> list[PayoutLine]:
    return list(db.session.scalars(select(PayoutLine).where(PayoutLine.batch_id == batch.id)))


def line_changes(
    old_id: int,
    currency: str,
    before: dict[int, LineFacts],
    after: dict[int, LineFacts],
    withdrawn: dict[int, list[Withdrawn]],
) -> list[dict]:
    """{"partner_id", "change", "reason"} for every partner whose line differs, by partner id."""
    changes = []
    for partner_id in sorted(set(before) | set(after)):
        old, new = before.get(partner_id), after.get(partner_id)
        if old == new:
            continue
        change, reason = _change(old_id, currency, old, new, withdrawn.get(partner_id, []))
        changes.append({"partner_id": partner_id, "change": change, "reason": reason})
    return changes


def _change(
    old_id: int, currency: str, old: LineFacts | None, new: LineFacts | None, gone: list[Withdrawn]
) -> tuple[str, str]:
    since = f"since batch {old_id} was built"
    if new is None:
        return "dropped", _dropped(old_id, currency, old, gone)
    if old is None:
        return "added", f"{money(new.amount_minor, currency)} approved or adjusted {since}"
    parts = [f"{describe(gone, currency)} {since}"] if gone else []
    arrived = new.amount_minor - (old.amount_minor - sum(group.amount_minor for group in gone))
    if arrived > 0:
        parts.append(f"{money(arrived, currency)} approved or adjusted {since}")
    elif arrived < 0:
        parts.append(f"{money(-arrived, currency)} owed back {since}")
    if old.status != new.status:
        parts.append(f"now held: {new.held_reason}" if new.status == "held" else f"no longer held ({old.held_reason})")
    if old.amount_minor != new.amount_minor:
        parts.append(f"{_major(old.amount_minor, currency)} -> {_major(new.amount_minor, currency)}")
    elif old.figures != new.figures:
        net = MONEY_FIELDS.index("net_minor")
        parts.append(
            f"tax figures changed (net {_major(old.figures[net], currency)} -> {_major(new.figures[net], currency)})"
        )
    change = new.status if old.status != new.status else "re-priced"
    return change, "; ".join(parts)


def _dropped(old_id: int, currency: str, old: LineFacts | None, gone: list[Withdrawn]) -> str:
    assert old is not None
    settled = sum(group.amount_minor for group in gone)
    steps = {group.step_kind for group in gone}
    if gone and settled == old.amount_minor and len(steps) == 1 and all(g.entry_kind == "accrued" for g in gone):
        return f"every commission in the line was {SETTLING_STEPS[steps.pop()]} since batch {old_id} was built"
    if gone:
        return f"{describe(gone, currency)} since batch {old_id} was built; nothing is owed any more"
    return f"nothing is owed any more (the line owed {money(old.amount_minor, currency)})"


def _major(amount_minor: int, currency: str) -> str:
    return f"{to_major(amount_minor, currency):,f}"
