"""Whether a ledger item was paid: the one rule every reader of "paid" uses.

A payout batch pays a line per partner, and ``mark_paid`` appends one 'paid' row per line: the line's
total, naming the line (``payout_line_id``, unique) and its batch, settling no item. The items a line
paid are its payout items, so an item is paid when the line holding it (``payout_items``, unique per
item) has its 'paid' row. One row per line rather than per item keeps marking a batch of a million
commissions paid to ten thousand inserts; the paid balance is the sum of the 'paid' rows either way.

Rows written before revision 0011 paid one item each and settle it (``settles_id``, unique with the
kind); the rule reads both forms, so a ledger with old payments keeps its meaning without rewriting rows.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, exists
from sqlalchemy.orm import aliased

from payouts.batches.models import PayoutItem
from payouts.ledger.models import LedgerEntry


def is_paid(item: type[LedgerEntry]) -> ColumnElement[bool]:
    """True for the rows of ``item`` (LedgerEntry or an alias of it) that a payout paid."""
    payment = aliased(LedgerEntry)
    # Each a unique-index lookup: the item's payout item by ledger_entry_id, then its line's payment by
    # payout_line_id; before 0011, the item's own payment by (settles_id, kind).
    in_paid_line = exists().where(PayoutItem.ledger_entry_id == item.id, payment.payout_line_id == PayoutItem.line_id)
    paid_on_its_own = exists().where(payment.settles_id == item.id, payment.kind == "paid")
    return in_paid_line | paid_on_its_own
