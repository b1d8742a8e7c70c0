"""The click stream worker: reads the Redis stream in batches, stores them, then acknowledges.

Several workers share one consumer group. A batch is acknowledged (and deleted from the stream) only
after its database commit; a worker that dies before that leaves its entries pending, and any worker
reclaims entries that stayed pending longer than ``claim_idle_ms``. Inserts are idempotent on the
click id, so a reclaimed batch that had in fact been committed adds nothing.
"""

from __future__ import annotations

import logging
import os
import socket
import time

from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

from core.db import db
from tracker.clicks.records import ClickRecord
from tracker.clicks.store import RedisUniqueness, store_clicks

log = logging.getLogger(__name__)
GROUP = "click-writers"


class ClickStreamWorker:
    report = "stored {} new clicks"

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
        self.uniqueness = RedisUniqueness(redis, prefix)
        self.batch_size = batch_size
        self.block_ms = block_ms
        self.claim_idle_ms = claim_idle_ms
        self.consumer = consumer or f"{socket.gethostname()}-{os.getpid()}"
        self.stored = 0
        self._group_ready = False

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
        records, malformed = [], []
        for entry_id, fields in entries:
            try:
                records.append(ClickRecord.from_stream(fields))
            except (KeyError, ValueError) as exc:
                malformed.append((entry_id, fields, exc))
        try:
            self.stored += store_clicks(db.session, records, self.uniqueness, self.refcode_key)
            db.session.commit()
        except Exception:
            db.session.rollback()
            raise
        self._park(malformed)
        ids = [entry_id for entry_id, _ in entries]
        self.acknowledge(ids)

    def acknowledge(self, ids) -> None:
        pipe = self.redis.pipeline(transaction=True)
        pipe.xack(self.stream_key, GROUP, *ids)
        pipe.xdel(self.stream_key, *ids)
        pipe.execute()

    def _park(self, malformed) -> None:
        """Keep unreadable entries aside for an operator instead of retrying them forever."""
        for entry_id, fields, exc in malformed:
            log.error("unreadable click entry %s parked in %s: %s", entry_id, self.dead_letter_key, exc)
            self.redis.xadd(self.dead_letter_key, {**fields, "_error": str(exc)[:200]})
