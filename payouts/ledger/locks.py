"""The one lock every ledger write that depends on a partner's earlier entries takes: its partner rows.

Accrual (caps read the partner's earlier commissions), settlement on a status change (a reversal reads
whether the commission was paid) and ``mark_paid`` (reads whether a commission was reversed) each lock
the partner rows they touch before reading, then read, then append. Two writers on one partner take
turns, and the second reads what the first committed (READ COMMITTED gives every statement after the
wait a fresh snapshot), so neither decides on a state the other is about to change.

The rows are locked ``FOR NO KEY UPDATE``, always in ascending id order, in one statement:

* ascending order: two transactions wanting partners {3, 7} both wait on 3 first, so neither can hold
  7 while waiting for 3 (no deadlock between a reversal touching a reseller and its distributor and a
  payout batch touching both);
* ``NO KEY`` rather than ``FOR UPDATE``: every row inserted with a foreign key to a partner (a
  conversion, a ledger entry, a customer binding) takes a KEY SHARE lock on it, which FOR UPDATE waits
  for. A conversion's transaction inserts its row first and locks the partner afterwards, so two
  conversions of one partner each held the KEY SHARE the other's FOR UPDATE waited on: a deadlock.
  NO KEY UPDATE still excludes every other ledger writer and lets those inserts through;
* row locks rather than advisory locks: a payout batch of ten thousand partners takes ten thousand,
  which row locks keep in the rows themselves, where advisory locks would fill PostgreSQL's shared lock
  table (64 per connection by default).

SQLite ignores the clause; it has one writer at a time, which serialises these writers anyway.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Row, Select, bindparam, select

from core.db import db
from tracker.program.models import Partner


def lock_partners(partner_ids: Iterable[int] | Select) -> list[int]:
    """Lock the partners (ids, or a SELECT of ids) until the transaction ends; returns the ids locked."""
    ids = partner_ids if isinstance(partner_ids, Select) else sorted(set(partner_ids))
    return list(
        db.session.scalars(
            select(Partner.id).where(Partner.id.in_(ids)).order_by(Partner.id).with_for_update(key_share=True)
        )
    )


# Built once: every priced conversion runs it.
_LOCK_ONE = (
    select(Partner.id, Partner.tier, Partner.parent_id)
    .where(Partner.id == bindparam("partner_id"))
    .with_for_update(key_share=True)
)


def lock_partner(partner_id: int) -> Row[Any] | None:
    """Lock one partner as ``lock_partners`` does and read its id, tier and parent_id in the same statement.

    An accrual prices by the partner's tier and parent right after taking its lock; one statement instead
    of a lock and a load saves every conversion a round trip.
    """
    return db.session.execute(_LOCK_ONE, {"partner_id": partner_id}).first()
