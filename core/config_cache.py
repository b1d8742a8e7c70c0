"""Per-process caches of rows that rarely change (an offer's commission plan, whether a partner has a
postback endpoint), trusted only while a version shared in Redis says nothing of their kind changed.

A commit that wrote a row of a watched model through the ORM (a flush, or an ORM UPDATE or DELETE) bumps
the version with INCR after the commit. A lookup reads the version first, one Redis GET, far cheaper than
a database round trip through the ORM, and keeps what it then loads under the version it read *before*
loading: a change committed meanwhile leaves a newer version, so the next lookup loads again. Without Redis,
or while it does not answer, nothing is cached. An entry also expires after ``MAX_AGE_SECONDS``, which bounds
what a bump lost to a Redis failure, or a row changed outside the ORM (psql, a migration), can leave stale.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Callable, Hashable
from itertools import chain
from typing import Any, Generic, TypeVar

from flask import Flask, current_app, has_app_context
from redis.exceptions import RedisError
from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState, Session, SessionTransaction

from core.db import db

log = logging.getLogger(__name__)
T = TypeVar("T")
MAX_AGE_SECONDS = 60.0
MAX_ENTRIES = 10_000
_VERSION_KEY = "cache:config-version"
_CHANGED = "handoff.config_changed"
_CACHES = "handoff.config_caches"
_VERSION_READ = "handoff.config_version"
_watched: tuple[type, ...] = ()


def watch(*models: type) -> None:
    """Bump the version after every commit that writes one of these models."""
    global _watched
    _watched = tuple(dict.fromkeys((*_watched, *models)))


class VersionedCache(Generic[T]):
    """Values by key, each loaded once per version of the watched models (and at most ``MAX_AGE_SECONDS`` old).

    The entries live in the app (its ``extensions``), so two apps in one process, each with its own
    database, never answer from each other's rows.
    """

    def __init__(self, name: str) -> None:
        self._name = name

    def get(self, key: Hashable, load: Callable[[], T]) -> T:
        version = _current_version()
        if version is None:
            return load()
        caches: dict[str, dict[Hashable, tuple[str, float, T]]] = current_app.extensions.setdefault(_CACHES, {})
        entries = caches.setdefault(self._name, {})
        entry = entries.get(key)
        now = time.monotonic()
        if entry is not None and entry[0] == version and entry[1] > now:
            return entry[2]
        value = load()
        if len(entries) >= MAX_ENTRIES:
            entries.clear()
        entries[key] = (version, now + MAX_AGE_SECONDS, value)
        return value


def _redis() -> tuple[Any, str] | None:
    if not has_app_context():
        return None
    client = current_app.extensions.get("handoff.redis")
    if client is None:
        return None
    return client, current_app.extensions["handoff.settings"].redis_prefix + _VERSION_KEY


def _current_version() -> str | None:
    """The version, read once per transaction: its lookups (the plan, then the endpoint) share one GET."""
    if not has_app_context():
        return None
    info = db.session.info
    if _VERSION_READ in info:
        version: str | None = info[_VERSION_READ]
        return version
    version = info[_VERSION_READ] = _read_version()
    return version


def _read_version() -> str | None:
    found = _redis()
    if found is None:
        return None
    client, key = found
    try:
        version = client.get(key)
        if version is None:
            # A random start: after Redis lost the key, no version of before can come round again.
            client.set(key, secrets.randbelow(2**62), nx=True)
            version = client.get(key)
    except RedisError as exc:
        log.warning("config cache: Redis unavailable (%s); loading from the database", exc)
        return None
    return None if version is None else version.decode()


def _bump_version() -> None:
    found = _redis()
    if found is None:
        return
    client, key = found
    try:
        client.incr(key)
    except RedisError as exc:
        log.warning("config cache: could not bump the version (%s); caches expire within %.0f s", exc, MAX_AGE_SECONDS)


@event.listens_for(Session, "after_flush")
def _note_flushed_writes(session: Session, flush_context: Any) -> None:
    if _watched and any(isinstance(row, _watched) for row in chain(session.new, session.dirty, session.deleted)):
        session.info[_CHANGED] = True


@event.listens_for(Session, "do_orm_execute")
def _note_bulk_writes(state: ORMExecuteState) -> None:
    if not (state.is_update or state.is_delete or state.is_insert):
        return
    mapper = state.bind_mapper
    if mapper is not None and issubclass(mapper.class_, _watched):
        state.session.info[_CHANGED] = True


@event.listens_for(Session, "after_commit")
def _bump_after_commit(session: Session) -> None:
    if session.info.pop(_CHANGED, False):
        _bump_version()


@event.listens_for(Session, "after_rollback")
def _forget_rolled_back(session: Session) -> None:
    session.info.pop(_CHANGED, None)


@event.listens_for(Session, "after_transaction_end")
def _forget_version(session: Session, transaction: SessionTransaction) -> None:
    session.info.pop(_VERSION_READ, None)


def init_app(app: Flask) -> None:
    @app.before_request
    def read_the_version_afresh() -> None:
        # A request reads the version anew even if its session outlived the last one's transaction (a
        # session kept open across requests, as the tests' app context does).
        db.session.info.pop(_VERSION_READ, None)
