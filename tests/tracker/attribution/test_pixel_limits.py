"""The pixel per /24: past its request limit a 429 without a body; past its error limit still a GIF, no row.
The landing helper's token lookups per /24: past the limit a 429 the helper's page may read (CORS)."""

from __future__ import annotations

from sqlalchemy import func, select

from core.api.ratelimits import rate_limits
from core.db import db
from tests.factories import OfferFactory
from tracker.attribution.models import Conversion, PixelError

REQUESTS, ERRORS = 5, 2  # SMALL_RATE_LIMITS' pixel requests and stored pixel errors per hour
HELPER_LOOKUPS = 4  # and the landing helper's /t/ref lookups


def fire(client, query, address):
    return client.get(f"/p/{query}", environ_base={"REMOTE_ADDR": address})


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_pixel_requests_past_the_limit_are_refused_with_retry_after_while_another_network_passes(limited_app):
    OfferFactory(slug="shop")
    client = limited_app.test_client()
    for number in range(REQUESTS):
        answered = fire(client, f"shop.gif?event=lead&order_id=A-{number}", f"198.51.100.{number + 1}")
        assert answered.status_code == 200 and answered.mimetype == "image/gif"
    refused = fire(client, "shop.gif?event=lead&order_id=A-x", "198.51.100.99")
    assert refused.status_code == 429 and refused.data == b""
    assert 1 <= int(refused.headers["Retry-After"]) <= 3600
    assert fire(client, "shop.gif?event=lead&order_id=B-1", "203.0.113.1").status_code == 200
    assert count(Conversion) == REQUESTS + 1


def test_pixel_errors_past_the_limit_still_answer_a_gif_and_write_no_row(limited_app):
    client = limited_app.test_client()
    for number in range(ERRORS + 2):
        answered = fire(client, f"no-such-offer.gif?order_id={number}", "198.51.100.7")
        assert answered.status_code == 200 and answered.mimetype == "image/gif"
    assert count(PixelError) == ERRORS
    assert rate_limits().counters["pixel_errors_dropped"] == 2
    assert fire(client, "no-such-offer.gif?order_id=other", "203.0.113.1").status_code == 200
    assert count(PixelError) == ERRORS + 1


def test_landing_helper_lookups_past_the_limit_are_refused_with_retry_after_while_another_network_passes(limited_app):
    client = limited_app.test_client()
    for number in range(HELPER_LOOKUPS):
        answered = client.get("/t/ref?atk=forged", environ_base={"REMOTE_ADDR": f"198.51.100.{number + 1}"})
        assert answered.status_code == 400  # a forged token, refused after it was counted
    refused = client.get("/t/ref?atk=forged", environ_base={"REMOTE_ADDR": "198.51.100.99"})
    assert refused.status_code == 429 and 1 <= int(refused.headers["Retry-After"]) <= 3600
    assert refused.headers["Access-Control-Allow-Origin"] == "*"
    assert client.get("/t/ref?atk=forged", environ_base={"REMOTE_ADDR": "203.0.113.1"}).status_code == 400
