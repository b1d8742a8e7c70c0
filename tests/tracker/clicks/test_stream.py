"""The click stream: every click that got a redirect is stored exactly once, whatever dies on the way."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from core.db import db
from tests.factories import LinkFactory
from tests.tracker.helpers import click, click_count, drain, make_worker
from tracker.clicks import store as click_store
from tracker.clicks import stream as click_stream
from tracker.program.models import Click
from tracker.services import tracker


class Killed(BaseException):
    """Stands for the process dying: nothing after the raise point runs."""


def stream_length() -> int:
    services = tracker()
    return services.redis.xlen(services.settings.click_stream_key)


def click_many(app, code: str, count: int) -> None:
    client = app.test_client()
    for index in range(count):
        click(client, code, address=f"198.51.{index // 250}.{index % 250}")


def test_click_path_writes_the_stream_and_the_worker_stores_it(stream_app):
    LinkFactory(code="st-1")
    click_many(stream_app, "st-1", 25)
    assert click_count() == 0 and stream_length() == 25
    assert drain() == 25
    assert click_count() == 25
    assert stream_length() == 0  # acknowledged entries are deleted, so the stream stays small


def test_worker_killed_after_commit_before_ack_duplicates_nothing(stream_app, monkeypatch):
    LinkFactory(code="st-2")
    click_many(stream_app, "st-2", 40)
    doomed = make_worker(consumer="doomed", batch_size=40)

    def die(*_):
        raise Killed()

    monkeypatch.setattr(doomed, "acknowledge", die)
    doomed.ensure_group()
    with pytest.raises(Killed):
        doomed.read_new()
    assert click_count() == 40
    assert doomed.pending_count() == 40

    survivor = make_worker(consumer="survivor", claim_idle_ms=1)
    survivor.run(burst=True)
    assert click_count() == 40
    assert survivor.pending_count() == 0 and stream_length() == 0


def test_worker_killed_mid_batch_before_commit_loses_nothing(stream_app, monkeypatch):
    LinkFactory(code="st-3")
    click_many(stream_app, "st-3", 30)
    real_store = click_store.store_clicks

    def store_then_die(session, records, *args):
        real_store(session, list(records)[:10], *args)
        session.flush()
        raise Killed()

    monkeypatch.setattr(click_stream, "store_clicks", store_then_die)
    doomed = make_worker(consumer="doomed", batch_size=30)
    doomed.ensure_group()
    with pytest.raises(Killed):
        doomed.read_new()
    db.session.rollback()
    assert click_count() == 0
    monkeypatch.setattr(click_stream, "store_clicks", real_store)

    make_worker(consumer="survivor", claim_idle_ms=1).run(burst=True)
    assert click_count() == 30


def test_malformed_entry_is_parked_not_retried_forever(stream_app):
    LinkFactory(code="st-4")
    click_many(stream_app, "st-4", 3)
    services = tracker()
    services.redis.xadd(services.settings.click_stream_key, {"id": "not-a-number"})
    services.redis.xadd(services.settings.click_stream_key, {"c": '["short"]'})
    drain()
    assert click_count() == 3
    dead = services.redis.xrange(f"{services.settings.click_stream_key}:dead")
    assert len(dead) == 2 and all(b"_error" in fields for _, fields in dead)
    assert stream_length() == 0


def test_redis_down_at_click_time_writes_straight_to_the_database(stream_app, monkeypatch):
    from redis.exceptions import ConnectionError as RedisConnectionError

    LinkFactory(code="st-5")
    recorder = tracker().recorder

    def refuse(*_args, **_kwargs):
        raise RedisConnectionError("connection refused")

    monkeypatch.setattr(recorder._redis, "xadd", refuse)
    click_many(stream_app, "st-5", 5)
    assert click_count() == 5
    assert db.session.scalar(select(func.count(func.distinct(Click.ref_code)))) == 5
