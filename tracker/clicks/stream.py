"""The click stream worker: reads the Redis stream in batches, stores them, then acknowledges.

Several workers share one consumer group. A batch is acknowledged (and deleted from the stream) only
after its database commit; a worker that dies before that leaves its entries pending, and any worker
reclaims entries that stayed pending longer than ``claim_idle_ms``. Inserts are idempotent on the
click id, so a reclaimed batch that had in fact been committed adds nothing.

One bad entry must not stop the stream: a batch the database refuses is retried one entry at a time,
and an entry refused on its own is parked in the dead-letter stream with the reason, like an unreadable
one. Only a failure of the database or Redis itself leaves the batch pending for a retry.
"""

from __future__ import annotations

import logging
import os
import socket
import time

from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError, ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError
from sqlalchemy.exc import DBAPIError, DisconnectionError, OperationalError

from core.db import db
from tracker.clicks.confirmations import apply_noted_visits
from tracker.clicks.records import ClickRecord
from tracker.clicks.store import RedisUniqueness, store_clicks

log = logging.getLogger(__name__)
GROUP = "click-writers"
_REASON_LENGTH = 200


def is_transient(exc: BaseException) -> bool:
    """A failure of the database or Redis themselves (connection lost, deadlock, timeout), not of an entry."""
    if isinstance(exc, OperationalError | DisconnectionError | RedisError):
        return True
    return isinstance(exc, DBAPIError) and exc.connection_invalidated


def failure_reason(exc: BaseException) -> str:
    # SQLAlchemy's own message repeats the statement and its parameters; the driver's says what was refused.
    # One line, so the log line that carries it stays one line.
    cause = getattr(exc, "orig", None) or exc
    return f"{type(exc).__name__}: {' '.join(str(cause).split())}"[:_REASON_LENGTH]


class ClickStreamWorker:
    def __init__(
        self,
        redis,
        stream_key: str,
        prefix: str,
        refcode_key: bytes,
        *,
        batch_size: int = 500,
        block_ms: int = 500,
        claim_idle_ms: int = 30_000,
        consumer: str | None = None,
    ):
        self.redis = redis
        self.stream_key = stream_key
        self.dead_letter_key = f"{stream_key}:dead"
        self.refcode_key = refcode_key
        self.prefix = prefix
        self.uniqueness = RedisUniqueness(redis, prefix)
        self.batch_size = batch_size
        self.block_ms = block_ms
        self.claim_idle_ms = claim_idle_ms
        self.consumer = consumer or f"{socket.gethostname()}-{os.getpid()}"
        self.stored = 0
        self.parked = 0  # entries moved to the dead-letter stream, unreadable or refused by the database
        self._group_ready = False

    @property
    def report(self) -> str:
        parked = f", parked {self.parked} entries in the dead-letter stream" if self.parked else ""
        return "stored {} new clicks" + parked

    def ensure_group(self) -> None:
        try:
            self.redis.xgroup_create(self.stream_key, GROUP, id="0", mkstream=True)
        except ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    def run(self, *, burst: bool = False, should_stop=lambda: False) -> int:
        """Drain the stream until stopped; with ``burst``, stop once nothing is left to do."""
        while not should_stop():
            if self.step() == 0 and burst and self.drained():
                break
        return self.stored

    def step(self) -> int:
        """Reclaim what dead workers left, then read new entries; return how many were handled."""
        try:
            if not self._group_ready:
                self.ensure_group()
                self._group_ready = True
            return self.reclaim_stale() + self.read_new()
        except (RedisConnectionError, RedisTimeoutError) as exc:
            log.warning("click stream unreachable (%s); retrying in 1 s", exc)
            time.sleep(1)
        except ResponseError as exc:
            if "NOGROUP" not in str(exc):
                raise
            # Redis came back without its data: recreate the group and go on.
            self._group_ready = False
        return 0

    def drained(self) -> bool:
        try:
            return self.pending_count() == 0 and self.redis.xlen(self.stream_key) == 0
        except (RedisConnectionError, RedisTimeoutError, ResponseError):
            return False

    def read_new(self) -> int:
        reply = self.redis.xreadgroup(
            GROUP, self.consumer, {self.stream_key: ">"}, count=self.batch_size, block=self.block_ms
        )
        entries = reply[0][1] if reply else []
        self.process(entries)
        return len(entries)

    def reclaim_stale(self) -> int:
        _, entries, _ = self.redis.xautoclaim(
            self.stream_key,
            GROUP,
            self.consumer,
            min_idle_time=self.claim_idle_ms,
            start_id="0-0",
            count=self.batch_size,
        )
        entries = [(entry_id, fields) for entry_id, fields in entries if fields is not None]
        if entries:
            log.info("reclaimed %d stale click entries", len(entries))
        self.process(entries)
        return len(entries)

    def pending_count(self) -> int:
        return self.redis.xpending(self.stream_key, GROUP)["pending"]

    def process(self, entries) -> None:
        if not entries:
            return
        readable, failed = [], []
        for entry_id, fields in entries:
            try:
                readable.append((entry_id, fields, ClickRecord.from_stream(fields)))
            except (KeyError, ValueError) as exc:
                failed.append((entry_id, fields, exc))
        refused = self._store(readable)
        refused_ids = {entry_id for entry_id, _, _ in refused}
        self._apply_noted_visits([record for entry_id, _, record in readable if entry_id not in refused_ids])
        self._park(failed + refused)
        ids = [entry_id for entry_id, _ in entries]
        self.acknowledge(ids)

    def _store(self, readable) -> list:
        """Store the batch, or failing that each entry alone; return the entries refused on their own, with why."""
        try:
            self._commit([record for _, _, record in readable])
            return []
        except Exception as exc:
            if is_transient(exc):
                raise
            if len(readable) == 1:
                entry_id, fields, _ = readable[0]
                return [(entry_id, fields, exc)]
            log.warning(
                "a batch of %d clicks failed (%s); storing them one at a time", len(readable), failure_reason(exc)
            )
        refused = []
        for entry_id, fields, record in readable:
            try:
                self._commit([record])
            except Exception as exc:
                if is_transient(exc):
                    raise  # the whole batch stays pending; the entries committed meanwhile replay as no-ops
                refused.append((entry_id, fields, exc))
        return refused

    def _commit(self, records: list[ClickRecord]) -> None:
        try:
            stored = store_clicks(db.session, records, self.uniqueness, self.refcode_key)
            db.session.commit()
        except Exception:
            db.session.rollback()
            raise
        self.stored += stored

    def _apply_noted_visits(self, stored: list[ClickRecord]) -> None:
        """Confirm prefetches whose visit the landing helper noted while they were on the stream.

        After the commit, never before it: a helper that finds no row notes the visit and looks again, so
        either the note is read here or the helper finds the row (tracker/clicks/confirmations.py). A
        transient failure leaves the batch pending, and its replay confirms each click once; any other
        costs the confirmations, never the stream (a conversion carrying the token still confirms).
        """
        try:
            apply_noted_visits(db.session, self.redis, self.prefix, stored, self.uniqueness)
            db.session.commit()
        except Exception as exc:
            db.session.rollback()
            if is_transient(exc):
                raise
            log.error("noted visits of %d clicks not applied: %s", len(stored), failure_reason(exc))

    def acknowledge(self, ids) -> None:
        pipe = self.redis.pipeline(transaction=True)
        pipe.xack(self.stream_key, GROUP, *ids)
        pipe.xdel(self.stream_key, *ids)
        pipe.execute()

    def _park(self, failed) -> None:
        """Keep entries that cannot be stored aside for an operator instead of retrying them forever."""
        for entry_id, fields, exc in failed:
            reason = failure_reason(exc)
            log.error("click entry %s parked in %s: %s", entry_id, self.dead_letter_key, reason)
            self.redis.xadd(self.dead_letter_key, {**fields, "_error": reason})
            self.parked += 1
