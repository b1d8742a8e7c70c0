"""Writing clicks to the database exactly once, and deciding which are unique.

Inserts ignore a click id that is already stored, so a batch the worker replays after a crash, or two
workers racing over one reclaimed entry, leave one row per click. A new click that draws a reference
code some other click already holds is also ignored by the insert; it is found missing afterwards and
written again with its next candidate code.
"""
from __future__ import annotations

from datetime import timedelta
from typing import Iterable, Protocol

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from tracker import refcodes
from tracker.clicks import ClickRecord
from tracker.models import Click

UNIQUE_WINDOW = timedelta(hours=24)
_MAX_CODE_ATTEMPTS = 8


class UniquenessPolicy(Protocol):
    def decide(self, session: Session, records: list[ClickRecord]) -> dict[int, bool]: ...


class SqlUniqueness:
    """First human click per link and visitor in 24 hours, looked up in the clicks table."""

    def decide(self, session: Session, records: list[ClickRecord]) -> dict[int, bool]:
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
    def _seen_before(session: Session, record: ClickRecord) -> bool:
        since = record.created_at - UNIQUE_WINDOW
        return session.scalar(
            select(Click.id).where(
                Click.link_id == record.link_id,
                Click.visitor_hash.in_((record.visitor_hash, record.visitor_hash_prev)),
                Click.created_at > since, Click.created_at <= record.created_at,
                Click.traffic == "human", Click.id != record.id,
            ).limit(1)) is not None


class RedisUniqueness:
    """The same rule with Redis keys that expire 24 hours after the visit, atomic across workers.

    ``SET NX GET`` both claims the visit and says who held it: a replayed click finds its own id and
    stays unique, so a crash between this and the database commit changes nothing.
    """

    def __init__(self, redis, prefix: str):
        self._redis = redis
        self._prefix = prefix

    def _key(self, link_id: int, visitor_hash: str) -> str:
        return f"{self._prefix}uniq:{link_id}:{visitor_hash}"

    def decide(self, session: Session, records: list[ClickRecord]) -> dict[int, bool]:
        humans = sorted((r for r in records if r.traffic == "human"), key=lambda r: r.created_ms)
        pipe = self._redis.pipeline(transaction=False)
        for record in humans:
            expires_ms = record.created_ms + int(UNIQUE_WINDOW.total_seconds() * 1000)
            pipe.get(self._key(record.link_id, record.visitor_hash_prev))
            pipe.set(self._key(record.link_id, record.visitor_hash), record.id, nx=True, get=True,
                     pxat=expires_ms)
        replies = pipe.execute()
        decided = {record.id: False for record in records}
        for index, record in enumerate(humans):
            yesterday, today = replies[2 * index], replies[2 * index + 1]
            own = str(record.id).encode()
            decided[record.id] = yesterday in (None, own) and today in (None, own)
        return decided


def _insert_statement(session: Session):
    dialect = session.get_bind().dialect.name
    module = postgresql if dialect == "postgresql" else sqlite
    return module.insert(Click).on_conflict_do_nothing().returning(Click.id)


def _row(record: ClickRecord, is_unique: bool, ref_code: str) -> dict:
    return {
        "id": record.id, "created_at": record.created_at, "link_id": record.link_id,
        "offer_id": record.offer_id, "partner_id": record.partner_id, "ref_code": ref_code,
        "sub1": record.sub1, "sub2": record.sub2, "sub3": record.sub3, "sub4": record.sub4,
        "sub5": record.sub5, "traffic": record.traffic, "device": record.device[:16],
        "os": record.os[:64], "browser": record.browser[:64], "ip_prefix": record.ip_prefix,
        "visitor_hash": record.visitor_hash, "is_unique": is_unique,
        "deep_link": record.deep_link, "referrer_host": record.referrer_host,
    }


def store_clicks(session: Session, records: Iterable[ClickRecord], uniqueness: UniquenessPolicy,
                 refcode_key: bytes) -> int:
    """Insert the clicks not yet stored and return how many were new. The caller commits."""
    pending = {record.id: record for record in records}
    if not pending:
        return 0
    unique = uniqueness.decide(session, list(pending.values()))
    attempts = dict.fromkeys(pending, 0)
    inserted_total = 0
    while pending:
        rows = [_row(r, unique[r.id], refcodes.code_for_click(refcode_key, r.id, attempts[r.id]))
                for r in pending.values()]
        inserted = set(session.execute(_insert_statement(session), rows).scalars())
        inserted_total += len(inserted)
        skipped = set(pending) - inserted
        already = set(session.scalars(select(Click.id).where(Click.id.in_(skipped)))) if skipped else set()
        pending = {cid: pending[cid] for cid in skipped - already}
        for cid in pending:
            attempts[cid] += 1
            if attempts[cid] >= _MAX_CODE_ATTEMPTS:
                raise RuntimeError(f"no free reference code for click {cid}")
    return inserted_total
