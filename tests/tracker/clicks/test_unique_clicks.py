"""Unique clicks: the first click per link and visitor opens a 24-hour window; in SQL and in Redis."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import pytest
import time_machine
from sqlalchemy import select

from core.db import db
from tests.factories import LinkFactory
from tests.tracker.helpers import FIREFOX, click, drain
from tracker.clicks import tokens
from tracker.clicks.records import ClickRecord
from tracker.clicks.store import RedisUniqueness
from tracker.program.models import Click
from tracker.services import tracker

# Each step: hours after the start, visitor address, user agent, link code, expected unique.
SCENARIO = [
    (0.0, "198.51.100.7", "chrome", "uq-a", True),
    (1.0, "198.51.100.7", "chrome", "uq-a", False),  # same visitor, same link, within 24 h
    (1.5, "198.51.100.8", "chrome", "uq-a", True),  # another address
    (2.0, "198.51.100.7", "firefox", "uq-a", True),  # another browser
    (2.5, "198.51.100.7", "chrome", "uq-b", True),  # another link
    (23.5, "198.51.100.7", "chrome", "uq-a", False),  # crosses midnight: the daily salt changed
    (24.5, "198.51.100.7", "chrome", "uq-a", True),  # 24 h after the first unique click
    (30.0, "198.51.100.7", "chrome", "uq-a", False),
]
START = datetime(2031, 3, 10, 11, 0, tzinfo=UTC)


def run_scenario(app, after_each) -> list[bool]:
    LinkFactory(code="uq-a")
    LinkFactory(code="uq-b")
    client = app.test_client()
    agents = {"chrome": None, "firefox": FIREFOX}
    results = []
    for hours, address, agent, code, _ in SCENARIO:
        with time_machine.travel(START.timestamp() + hours * 3600, tick=False):
            extra = {"user_agent": agents[agent]} if agents[agent] else {}
            response = click(client, code, address, **extra)
            after_each()
            click_id = _click_id(response)
            db.session.rollback()
            results.append(db.session.scalar(select(Click.is_unique).where(Click.id == click_id)))
    return results


def _click_id(response) -> int:
    token = parse_qs(urlsplit(response.headers["Location"]).query)["atk"][0]
    return tokens.verify_token(tracker().token_key, token).click_id


def test_unique_clicks_in_sql(app):
    assert run_scenario(app, after_each=lambda: None) == [step[-1] for step in SCENARIO]


def test_unique_clicks_in_redis(stream_app):
    assert run_scenario(stream_app, after_each=drain) == [step[-1] for step in SCENARIO]


def test_replayed_click_keeps_its_uniqueness_in_redis(stream_app):
    """A batch stored again after a crash must not turn its own first click into a repeat."""
    LinkFactory(code="uq-c")
    click(stream_app.test_client(), "uq-c")
    services = tracker()
    entries = services.redis.xrange(services.settings.click_stream_key)
    record = ClickRecord.from_stream(entries[0][1])
    policy = RedisUniqueness(services.redis, services.settings.redis_prefix)
    assert policy.decide(db.session, [record]) == {record.id: True}
    assert policy.decide(db.session, [record]) == {record.id: True}


@pytest.mark.parametrize(
    "agent", ["curl/8.5.0", "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)"]
)
def test_bots_are_never_unique(app, agent):
    LinkFactory(code="uq-d")
    click(app.test_client(), "uq-d", user_agent=agent)
    assert db.session.scalars(select(Click.is_unique)).all() == [False]
