"""The pixel's network burst hold, and ``/t/ref`` for a click the worker has not stored yet."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import time_machine
from sqlalchemy import select

from core.db import db
from tests.factories import LinkFactory, OfferFactory
from tests.tracker.attribution.test_conversions import token_from
from tests.tracker.helpers import click, drain
from tracker.attribution.models import Conversion
from tracker.clicks import refcodes
from tracker.program.models import Click

T0 = datetime(2031, 8, 3, 9, 0, tzinfo=UTC)


def at(minutes: float):
    return time_machine.travel(T0 + timedelta(minutes=minutes), tick=False)


def fire_pixel(client, order_id: str, address: str) -> None:
    response = client.get(f"/p/burst.gif?event=lead&order_id={order_id}", environ_base={"REMOTE_ADDR": address})
    assert response.status_code == 200 and response.mimetype == "image/gif"


def held(order_id: str) -> tuple[str, list[str]]:
    conversion = db.session.scalar(select(Conversion).where(Conversion.order_id == order_id))
    return conversion.status, conversion.review_reasons


def test_a_sixth_pixel_conversion_from_one_network_within_an_hour_is_held(app):
    # An offer that trusts unsigned pixels: the burst is then the only reason to hold one.
    OfferFactory(slug="burst", trusted_channels=["api", "pixel"])
    client = app.test_client()
    for minute in range(5):  # five people in one office, five /24 neighbours
        with at(minute):
            fire_pixel(client, f"N-{minute}", f"198.51.100.{minute + 1}")
    with at(5):
        fire_pixel(client, "N-5", "198.51.100.200")
        fire_pixel(client, "OTHER-1", "203.0.113.7")  # another network at the same moment
    assert [held(f"N-{minute}") for minute in range(5)] == [("pending", [])] * 5
    assert held("N-5") == ("review", ["ip_burst"])
    assert held("OTHER-1") == ("pending", [])
    assert db.session.scalar(select(Conversion.ip_prefix).where(Conversion.order_id == "N-5")) == "198.51.100.0/24"

    # The hour slides with the time each conversion was received, and a held conversion counts too.
    with at(61):  # received in the last hour: N-1 .. N-4 and the held N-5, five
        fire_pixel(client, "LATER-1", "198.51.100.9")
    with at(66):  # received in the last hour: LATER-1 alone
        fire_pixel(client, "LATER-2", "198.51.100.9")
    assert held("LATER-1") == ("review", ["ip_burst"])
    assert held("LATER-2") == ("pending", [])


def test_t_ref_answers_pending_for_a_click_still_on_the_stream_then_its_code(stream_app):
    LinkFactory(code="ref-wait")
    client = stream_app.test_client()
    with at(0):
        token = token_from(click(client, "ref-wait"))

    def ask():
        return client.get("/t/ref", query_string={"atk": token})

    with at(1):
        pending = ask()
    assert (pending.status_code, pending.json) == (202, {"pending": True})
    assert pending.headers["Access-Control-Allow-Origin"] == "*"
    with at(2):  # two minutes after the click it is no longer "on its way"
        missing = ask()
    assert (missing.status_code, missing.json) == (404, {"error": "no click recorded for this token", "status": 404})
    assert missing.headers["Access-Control-Allow-Origin"] == "*"

    assert drain() == 1
    found = ask()
    code = db.session.scalar(select(Click.ref_code))
    assert (found.status_code, found.json) == (200, {"ref": refcodes.display(code)})
    assert found.headers["Cache-Control"] == "private, max-age=86400"
    assert found.headers["Access-Control-Allow-Origin"] == "*"


def test_t_ref_refuses_an_altered_token(app):
    LinkFactory(code="ref-bad")
    with at(0):
        token = token_from(click(app.test_client(), "ref-bad"))
    altered = token[:-1] + ("A" if token[-1] != "A" else "B")
    response = app.test_client().get("/t/ref", query_string={"atk": altered})
    assert response.status_code == 400 and response.json["error"].startswith("invalid token")
    assert response.headers["Access-Control-Allow-Origin"] == "*"
