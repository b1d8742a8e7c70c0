"""The link cache (``LINK_CACHE_SECONDS``): the node that pauses an offer forgets its cache at once; every
other node keeps redirecting until its cached lookup runs out, then stops. Unknown codes are remembered
for two seconds.

Two apps on one database stand for two nodes. The caches' clock is their own (``TTLCache(timer=...)``):
the test hands them one it moves by hand.
"""

from __future__ import annotations

import functools

import pytest
from cachetools import TTLCache

from core.db import db
from tests.conftest import _build, _database_url, _teardown, make_settings
from tests.factories import LinkFactory, auth, expect
from tests.tracker.helpers import FIREFOX, click_count
from tracker.program import links

CACHE_SECONDS = 30


class Clock:
    def __init__(self, now: float = 1_000.0):
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture(params=["sqlite", "postgresql"])
def nodes(request, tmp_path, monkeypatch, clock):
    """Two nodes on one database whose link lookups are kept for 30 seconds of the test's clock."""
    monkeypatch.setattr(links, "TTLCache", functools.partial(TTLCache, timer=clock))
    settings = make_settings(_database_url(request, tmp_path), tmp_path, link_cache_seconds=CACHE_SECONDS)
    first, second = _build(settings), _build(settings)
    with first.app_context():
        yield first, second
    with second.app_context():
        db.session.remove()
        db.engine.dispose()
    _teardown(first)


def status(node, code: str) -> int:
    return node.test_client().get(f"/c/{code}", headers={"User-Agent": FIREFOX}).status_code


def set_offer_status(node, link, value: str) -> None:
    headers = auth("advertiser", advertiser_id=link.offer.advertiser_id)
    response = node.test_client().patch(f"/api/v1/offers/{link.offer_id}", headers=headers, json={"status": value})
    assert expect(response, 200)["status"] == value


def test_a_paused_offer_redirects_on_other_nodes_until_their_cached_lookup_expires(nodes, clock):
    here, there = nodes
    link = LinkFactory(code="cached-1")
    assert (status(here, "cached-1"), status(there, "cached-1")) == (302, 302)  # both keep it from t = 1000
    set_offer_status(here, link, "paused")
    assert status(here, "cached-1") == 410  # the node that paused it forgot its cache

    clock.now += CACHE_SECONDS - 1
    assert status(there, "cached-1") == 302  # the other node still has the active offer
    assert click_count() == 3  # and counts the click
    clock.now += 1
    assert status(there, "cached-1") == 410  # 30 s after its lookup: looked up again, paused
    assert click_count() == 3

    set_offer_status(here, link, "active")
    assert status(here, "cached-1") == 302
    clock.now += CACHE_SECONDS - 1
    assert status(there, "cached-1") == 410  # the paused answer is kept just as long
    clock.now += 1
    assert status(there, "cached-1") == 302


def test_an_unknown_code_is_remembered_for_two_seconds_only(nodes, clock):
    here, _ = nodes
    assert status(here, "late-1") == 404
    LinkFactory(code="late-1")
    clock.now += 1.5
    assert status(here, "late-1") == 404
    clock.now += 0.5
    assert status(here, "late-1") == 302
