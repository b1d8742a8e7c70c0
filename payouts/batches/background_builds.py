"""Payout batch builds started from the portal: run beside the request, their progress readable meanwhile.

Pricing ten thousand partners takes longer than a browser should wait for one answer. The portal starts
the build (lifecycle.create_batch, the API's own function) in a thread with its own app context, hence
its own database session, and shows a page that refreshes until the build is done. The build stays one
transaction, as the API's is: its batch becomes visible whole at the commit, never half-built, and a
build cut short (the process killed) leaves nothing in the database to clean up.

What the page reads is a progress record (state, partners priced out of how many, the batch or the
error) kept outside that transaction, where other requests can see it at once: in Redis under the
``jobs:`` prefix when Redis is configured, so every web worker sees it; in embedded mode (no Redis, one
machine) in a small file in the instance folder, which every worker process there reads. The thread
is not a daemon: a server shutting down in good order waits for the build to commit, not dropping it.
A record that stops moving for STALE_SECONDS belongs to a build whose process died; the page says so,
and that nothing was written.
"""

from __future__ import annotations

import json
import logging
import os
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Protocol

from flask import Flask, current_app

from core.db import db
from payouts.batches.lifecycle import BatchBusy, BatchError, create_batch

log = logging.getLogger(__name__)
RECORD_TTL_SECONDS = 24 * 3600  # long enough to read how a build ended the next morning
STALE_SECONDS = 15 * 60  # a build whose record has not moved for this long died with its process
WRITE_EVERY_SECONDS = 0.5  # progress writes per build: a few a second, not one per partner
TOKEN = re.compile(r"[0-9a-f]{32}")  # what start_build hands out; anything else names no file


@dataclass(frozen=True)
class BuildRequest:
    """What the API's POST /payout-batches takes, already checked and converted."""

    period_end: date
    currency: str
    payout_date: date
    minimum_payout_minor: int
    actor: str


@dataclass(frozen=True)
class BuildProgress:
    """A build as the page shows it. ``state``: running, done or failed."""

    token: str
    state: str
    currency: str
    done: int
    total: int
    batch_id: int | None
    error: str | None
    busy: bool  # refused because another build in the currency held the lock (the API's 409)
    updated: int  # Unix seconds of the last progress write

    @property
    def stale(self) -> bool:
        return self.state == "running" and time.time() - self.updated > STALE_SECONDS


class ProgressStore(Protocol):
    def save(self, token: str, fields: dict[str, str]) -> None: ...

    def load(self, token: str) -> dict[str, str] | None: ...

    def recent(self) -> list[str]:
        """Tokens of the builds started in the last RECORD_TTL_SECONDS, newest first."""
        ...


class RedisProgress:
    def __init__(self, client: Any, prefix: str):
        self.client, self.prefix = client, prefix + "jobs:batch-build:"
        self.index = prefix + "jobs:batch-builds"

    def save(self, token: str, fields: dict[str, str]) -> None:
        key, now = self.prefix + token, time.time()
        pipe = self.client.pipeline()
        pipe.hset(key, mapping=fields)
        pipe.expire(key, RECORD_TTL_SECONDS)
        if fields.get("state") == "running":  # the first save: the build starts
            pipe.zadd(self.index, {token: now})
            pipe.zremrangebyscore(self.index, "-inf", now - RECORD_TTL_SECONDS)
        pipe.execute()

    def recent(self) -> list[str]:
        return [token.decode() for token in self.client.zrevrange(self.index, 0, -1)]

    def load(self, token: str) -> dict[str, str] | None:
        found = self.client.hgetall(self.prefix + token)
        return {key.decode(): value.decode() for key, value in found.items()} or None


class FileProgress:
    """Embedded mode's store (no Redis): a small JSON file per build in the instance folder, which every
    worker process on the one machine reads; each write replaces the file whole, so no reader sees half."""

    def __init__(self, folder: Path):
        self.folder = folder

    def save(self, token: str, fields: dict[str, str]) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        record = {**(self.load(token) or {}), **fields}
        partial, path = self.folder / f"{token}.{threading.get_ident()}.tmp", self.folder / f"{token}.json"
        partial.write_text(json.dumps(record), encoding="utf-8")
        os.replace(partial, path)
        if fields.get("state") == "running":  # the first save: the build starts; forget day-old ones
            # Aged by the file system's clock on both sides, as the new file's time says it now.
            now = path.stat().st_mtime
            for old in self.folder.glob("*.json"):
                if now - old.stat().st_mtime > RECORD_TTL_SECONDS:
                    old.unlink(missing_ok=True)

    def load(self, token: str) -> dict[str, str] | None:
        if not TOKEN.fullmatch(token):
            return None
        try:
            found: dict[str, str] = json.loads((self.folder / f"{token}.json").read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        return found

    def recent(self) -> list[str]:
        stamped = []
        for path in self.folder.glob("*.json"):
            try:
                stamped.append((path.stat().st_mtime, path.stem))
            except FileNotFoundError:  # forgotten by another worker's start meanwhile
                continue
        return [token for _, token in sorted(stamped, reverse=True)]


def progress_store(app: Flask | None = None) -> ProgressStore:
    app = app or current_app
    client = app.extensions.get("handoff.redis")
    if client is not None:
        return RedisProgress(client, app.extensions["handoff.settings"].redis_prefix)
    return FileProgress(Path(app.extensions["handoff.settings"].instance_path) / "batch-builds")


def read_build(token: str) -> BuildProgress | None:
    found = progress_store().load(token)
    if found is None:
        return None
    batch_id = found.get("batch_id")
    return BuildProgress(
        token=token,
        state=found["state"],
        currency=found.get("currency", ""),
        done=int(found.get("done", 0)),
        total=int(found.get("total", 0)),
        batch_id=int(batch_id) if batch_id else None,
        error=found.get("error") or None,
        busy=found.get("busy") == "1",
        updated=int(str(found.get("updated", "0")).partition(".")[0]),
    )


def running_builds() -> list[BuildProgress]:
    """Builds still pricing, for the list page (one started elsewhere, or left by navigating away)."""
    found = (read_build(token) for token in progress_store().recent())
    return [build for build in found if build is not None and build.state == "running" and not build.stale]


def start_build(wanted: BuildRequest) -> tuple[str, threading.Thread]:
    """Record the build as running and start it; the thread answers nothing, the record says how it went."""
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    token = uuid.uuid4().hex
    store = progress_store(app)
    store.save(token, {"state": "running", "currency": wanted.currency, "done": "0", "total": "0", **_now()})
    thread = threading.Thread(target=_run, args=(app, store, token, wanted), name=f"payout-build-{token[:8]}")
    thread.start()
    return token, thread


def _now() -> dict[str, str]:
    return {"updated": str(int(time.time()))}


def _run(app: Flask, store: ProgressStore, token: str, wanted: BuildRequest) -> None:
    with app.app_context():
        try:
            batch = create_batch(
                wanted.period_end,
                wanted.currency,
                wanted.payout_date,
                wanted.minimum_payout_minor,
                wanted.actor,
                progress=progress_tracker(store, token),
            )
        except BatchError as error:
            db.session.rollback()
            busy = "1" if isinstance(error, BatchBusy) else "0"
            store.save(token, {"state": "failed", "error": str(error), "busy": busy, **_now()})
        except Exception:
            # Rolled back whole: nothing of the batch was written. The record says so instead of running forever.
            log.exception("payout batch build %s failed", token)
            db.session.rollback()
            store.save(token, {"state": "failed", "error": "", "busy": "0", **_now()})
        else:
            store.save(token, {"state": "done", "batch_id": str(batch.id), **_now()})


def progress_tracker(store: ProgressStore, token: str) -> Callable[[Iterable], Iterable]:
    """create_batch's ``progress``: passes the partners through, writing how far it got a few times a second."""

    def track(partners: Iterable) -> Iterator:
        partners = list(partners)
        total, last_write = len(partners), 0.0
        store.save(token, {"done": "0", "total": str(total), **_now()})
        for done, partner in enumerate(partners, start=1):
            yield partner
            if done == total or time.monotonic() - last_write >= WRITE_EVERY_SECONDS:
                store.save(token, {"done": str(done), **_now()})
                last_write = time.monotonic()

    return track
