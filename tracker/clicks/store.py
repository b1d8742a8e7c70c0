"""Writing clicks to the database exactly once, and deciding which are unique.

Inserts ignore a click id that is already stored, so a batch the worker replays after a crash, or two
workers racing over one reclaimed entry, leave one row per click. A new click that draws a reference
code some other click already holds is also ignored by the insert; it is found missing afterwards and
written again with its next candidate code.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from typing import Protocol

from sqlalchemy import select

from core.db import DbSession, dialect_insert
from tracker.clicks import refcodes
from tracker.clicks.records import ClickRecord
from tracker.program.models import Click

UNIQUE_WINDOW = timedelta(hours=24)
_MAX_CODE_ATTEMPTS = 8


class UniquenessPolicy(Protocol):
    def decide(self, session: DbSession, records: list[ClickRecord]) -> dict[int, bool]: ...


class SqlUniqueness:
    """A human click is unique unless the same visitor made a unique click on the link in the 24 hours
    before it: the first click opens a 24-hour window, and the next click after it opens another."""

    def decide(self, session: DbSession, records: list[ClickRecord]) -> dict[int, bool]:
        decided: dict[int, bool] = {}
        seen_in_batch: set[tuple[int, str]] = set()
        for record in sorted(records, key=lambda r: r.created_ms):
            if record.traffic != "human":
                decided[record.id] = False
                continue
            visit = (record.link_id, record.visitor_hash)
            decided[record.id] = visit not in seen_in_batch and not self._seen_before(session, record)
            seen_in_batch.add(visit)
        return decided

    @staticmethod
    def _seen_before(session: DbSession, record: ClickRecord) -> bool:
        since = record.created_at - UNIQUE_WINDOW
        return (
            session.scalar(
                select(Click.id)
                .where(
                    Click.link_id == record.link_id,
                    Click.visitor_hash.in_((record.visitor_hash, record.visitor_hash_prev)),
                    Click.created_at > since,
                    Click.created_at <= record.created_at,
                    Click.is_unique.is_(True),
                    Click.id != record.id,
                )
                .limit(1)
            )
            is not None
        )


# Unique if neither of the visitor's keys (today's hash, yesterday's) holds another click within the
# window. The click time is kept in the value, so the rule does not depend on Redis's clock; the TTL
# only cleans up. A replayed click finds its own id and stays unique.
_CLAIM_VISIT = """
local function other_click_within_window(value)
  if not value then return false end
  local sep = string.find(value, ':', 1, true)
  if string.sub(value, 1, sep - 1) == ARGV[1] then return false end
  local gap = math.abs(tonumber(string.sub(value, sep + 1)) - tonumber(ARGV[2]))
  return gap < tonumber(ARGV[3])
end
if other_click_within_window(redis.call('GET', KEYS[1]))
   or other_click_within_window(redis.call('GET', KEYS[2])) then
  return 0
end
redis.call('SET', KEYS[1], ARGV[1] .. ':' .. ARGV[2], 'PX', ARGV[3])
return 1
"""


class RedisUniqueness:
    """The same rule with Redis, atomic across workers: one script call per human click, pipelined."""

    def __init__(self, redis, prefix: str):
        self._prefix = prefix
        self._redis = redis
        self._claim = redis.register_script(_CLAIM_VISIT)

    def _key(self, link_id: int, visitor_hash: str) -> str:
        return f"{self._prefix}uniq:{link_id}:{visitor_hash}"

    def decide(self, session: DbSession, records: list[ClickRecord]) -> dict[int, bool]:
        humans = sorted((r for r in records if r.traffic == "human"), key=lambda r: r.created_ms)
        window_ms = int(UNIQUE_WINDOW.total_seconds() * 1000)
        pipe = self._redis.pipeline(transaction=False)
        for record in humans:
            self._claim(
                keys=[
                    self._key(record.link_id, record.visitor_hash),
                    self._key(record.link_id, record.visitor_hash_prev),
                ],
                args=[record.id, record.created_ms, window_ms],
                client=pipe,
            )
        replies = pipe.execute() if humans else []
        decided = {record.id: False for record in records}
        decided.update({record.id: reply == 1 for record, reply in zip(humans, replies, strict=True)})
        return decided


def _row(record: ClickRecord, is_unique: bool, ref_code: str) -> dict:
    return {
        "id": record.id,
        "created_at": record.created_at,
        "link_id": record.link_id,
        "offer_id": record.offer_id,
        "partner_id": record.partner_id,
        "ref_code": ref_code,
        "sub1": record.sub1,
        "sub2": record.sub2,
        "sub3": record.sub3,
        "sub4": record.sub4,
        "sub5": record.sub5,
        "traffic": record.traffic,
        "device": record.device[:16],
        "os": record.os[:64],
        "browser": record.browser[:64],
        "ip_prefix": record.ip_prefix,
        "visitor_hash": record.visitor_hash,
        "is_unique": is_unique,
        "deep_link": record.deep_link,
        "referrer_host": record.referrer_host,
    }


def store_clicks(
    session: DbSession, records: Iterable[ClickRecord], uniqueness: UniquenessPolicy, refcode_key: bytes
) -> int:
    """Insert the clicks not yet stored and return how many were new. The caller commits."""
    pending = {record.id: record for record in records}
    if not pending:
        return 0
    unique = uniqueness.decide(session, list(pending.values()))
    attempts = dict.fromkeys(pending, 0)
    inserted_total = 0
    while pending:
        rows = [
            _row(r, unique[r.id], refcodes.code_for_click(refcode_key, r.id, attempts[r.id])) for r in pending.values()
        ]
        inserted = set(
            session.execute(dialect_insert(Click, session).on_conflict_do_nothing().returning(Click.id), rows).scalars()
        )
        inserted_total += len(inserted)
        skipped = set(pending) - inserted
        already = set(session.scalars(select(Click.id).where(Click.id.in_(skipped)))) if skipped else set()
        pending = {cid: pending[cid] for cid in skipped - already}
        for cid in pending:
            attempts[cid] += 1
            if attempts[cid] >= _MAX_CODE_ATTEMPTS:
                raise RuntimeError(f"no free reference code for click {cid}")
    return inserted_total
