"""Where the click path puts a click: one write to the Redis stream, or straight to the database.

The stream is the fast path in production. When Redis cannot take the write, the click is stored in
the database synchronously and the visitor is still redirected; after a failure the stream is left
alone for a second so a dead Redis does not cost every click a connection attempt.
"""

from __future__ import annotations

import json
import logging
import time

from redis.exceptions import RedisError

from core.db import db
from tracker.clicks.records import ClickRecord
from tracker.clicks.store import SqlUniqueness, store_clicks

log = logging.getLogger(__name__)
_STREAM_RETRY_AFTER_SECONDS = 1.0


class ClickRecorder:
    def __init__(self, redis, stream_key: str, refcode_key: bytes):
        self._redis = redis
        self._stream_key = stream_key
        self._refcode_key = refcode_key
        self._stream_down_until = 0.0

    def record(self, click: ClickRecord) -> str:
        """Store the click durably; return where it went: "stream", "database" or "unstored"."""
        if self._redis is not None and time.monotonic() >= self._stream_down_until:
            try:
                self._redis.xadd(self._stream_key, click.to_stream())
                return "stream"
            except RedisError as exc:
                self._stream_down_until = time.monotonic() + _STREAM_RETRY_AFTER_SECONDS
                log.warning("click stream unavailable (%s); writing clicks to the database", exc)
        return self.write_direct(click)

    def write_direct(self, click: ClickRecord) -> str:
        try:
            store_clicks(db.session, [click], SqlUniqueness(), self._refcode_key)
            db.session.commit()
            return "database"
        except Exception:
            db.session.rollback()
            # Neither store took the click. The visitor is still redirected (a lost visitor costs the
            # advertiser more than a lost count); the record goes to the error log whole, with the
            # address already minimised, so an operator can re-enter it.
            log.error("click not stored: %s", json.dumps(click.to_stream()), exc_info=True)
            return "unstored"
