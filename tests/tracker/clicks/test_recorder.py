"""Where the click path puts a click when Redis dies and when it comes back.

A redis-server of the test's own is killed with SIGKILL and started again on the same port. The
recorder leaves the stream alone for a second after a failure; that second is measured on
``time.monotonic``, which time-machine does not move, so the test gives the recorder a clock it moves
by hand.
"""

from __future__ import annotations

import shutil
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from core.db import db
from tests.conftest import _build, _database_url, _teardown, make_settings, require_service
from tests.factories import LinkFactory
from tests.services import PrivateRedis
from tests.tracker.attribution.test_conversions import token_from
from tests.tracker.helpers import click, click_count, drain
from tracker.clicks import recorder as recorder_module
from tracker.clicks import tokens
from tracker.program.models import Click
from tracker.services import tracker


class Clock:
    def __init__(self, now: float):
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def private_redis(tmp_path):
    require_service(shutil.which("redis-server") is not None, "redis-server binary not installed")
    server = PrivateRedis(tmp_path / "redis")
    server.start()
    yield server
    server.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def app_on_private_redis(request, tmp_path, private_redis):
    settings = make_settings(
        _database_url(request, tmp_path), tmp_path, redis_url=private_redis.url, redis_prefix="recorder:"
    )
    app = _build(settings)
    with app.app_context():
        yield app
    _teardown(app)


@pytest.fixture
def clock(monkeypatch):
    clock = Clock(500.0)
    monkeypatch.setattr(recorder_module, "time", SimpleNamespace(monotonic=clock))
    return clock


def test_clicks_go_back_to_the_stream_once_redis_is_back(app_on_private_redis, private_redis, clock):
    LinkFactory(code="back-1")
    client = app_on_private_redis.test_client()
    services = tracker()
    issued = []

    def click_once(number: int) -> None:
        token = token_from(click(client, "back-1", address=f"198.51.100.{number}"))
        issued.append(tokens.verify_token(services.token_key, token).click_id)

    def placed() -> tuple[int, int]:
        """(entries on the stream, clicks in the database)"""
        return services.redis.xlen(services.settings.click_stream_key), click_count()

    click_once(1)
    assert placed() == (1, 0)

    private_redis.kill()
    click_once(2)  # Redis refuses: straight to the database, the visitor is still redirected
    assert click_count() == 1

    private_redis.start()  # same port; the first click comes back from the append-only file
    click_once(3)  # within a second of the failure the stream is not tried
    clock.now += 0.5
    click_once(4)
    assert click_count() == 3

    clock.now += 0.5  # a second after the failure; the recorder's write is the first call to the new server
    click_once(5)
    assert placed() == (2, 3)

    assert drain() == 2
    db.session.rollback()
    assert sorted(db.session.scalars(select(Click.id))) == sorted(issued)
