"""Signed pixels and the amount ceiling: what the advertiser's page vouches for, and outliers held for review."""

from __future__ import annotations

import hashlib
import hmac
from urllib.parse import urlencode

import pytest
from sqlalchemy import select

from core.db import db
from tests.factories import OfferFactory, auth, expect, post_conversion
from tracker.attribution.models import Conversion, PixelError
from tracker.attribution.signing import pixel_message, pixel_signature

SALE = {"event": "sale", "order_id": "T-1001", "amount": "49.90", "currency": "EUR"}


@pytest.fixture
def offer(app):
    return OfferFactory(slug="shop", pixel_signing=True)


def signed(secret: str, fields: dict) -> str:
    # The README's formula written out: slug|event|order_id|amount|currency, HMAC-SHA256, lowercase hex.
    message = "|".join(("shop", *(fields.get(name, "") for name in ("event", "order_id", "amount", "currency"))))
    return hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()


def fire(app, **query):
    response = app.test_client().get(f"/p/shop.gif?{urlencode(query)}")
    assert response.status_code == 200 and response.mimetype == "image/gif"


def test_the_signed_message_is_the_documented_one():
    assert pixel_message("shop", "sale", "T-1001", "49.90", "EUR") == "shop|sale|T-1001|49.90|EUR"
    assert pixel_message("shop", "", "T-1", "", "") == "shop|lead|T-1||"
    assert pixel_signature("k", "shop", "sale", "T-1001", "49.90", "EUR") == signed("k", SALE)


def test_a_signed_pixel_is_recorded_pending_without_review(app, offer):
    fire(app, **SALE, sig=signed(offer.pixel_secret, SALE).upper())  # hex in either case
    conversion = db.session.scalar(select(Conversion))
    assert (conversion.order_id, conversion.amount_minor, conversion.status, conversion.review_reasons) == (
        "T-1001",
        4990,
        "pending",
        [],
    )
    assert db.session.scalar(select(PixelError)) is None


def test_an_absent_event_is_signed_as_lead(app, offer):
    lead = {"order_id": "L-1"}
    fire(app, **lead, sig=signed(offer.pixel_secret, {"event": "lead", **lead}))
    assert db.session.scalar(select(Conversion.event)) == "lead"


@pytest.mark.parametrize(
    "query, reason",
    [
        (SALE, "has no sig"),
        ({**SALE, "sig": ""}, "has no sig"),
        ({**SALE, "sig": "0" * 64}, "sig does not match"),
        ({**SALE, "sig": "not hex é"}, "sig does not match"),
        # A real signature carried over to a bigger amount, another order, or another event.
        ({**SALE, "amount": "999999.00", "sig": "{sale}"}, "sig does not match"),
        ({**SALE, "order_id": "T-1002", "sig": "{sale}"}, "sig does not match"),
        ({**SALE, "event": "lead", "sig": "{sale}"}, "sig does not match"),
        ({**SALE, "sig": "{other secret}"}, "sig does not match"),
    ],
)
def test_a_missing_or_wrong_signature_is_refused_with_the_reason(app, offer, query, reason):
    values = {"{sale}": signed(offer.pixel_secret, SALE), "{other secret}": signed("another secret", SALE)}
    fire(app, **{name: values.get(value, value) for name, value in query.items()})
    [error] = db.session.scalars(select(PixelError)).all()
    assert error.offer_slug == "shop" and reason in error.reason
    assert db.session.scalar(select(Conversion)) is None


def test_an_offer_that_does_not_sign_holds_unsigned_pixels_and_ignores_sig(app):
    offer = OfferFactory(slug="shop")
    fire(app, **SALE, sig=signed(offer.pixel_secret, SALE))
    conversion = db.session.scalar(select(Conversion))
    assert (conversion.status, conversion.review_reasons) == ("review", ["unsigned_pixel"])


def test_an_offer_that_trusts_unsigned_pixels_records_them_pending(app):
    OfferFactory(slug="shop", trusted_channels=["api", "pixel"])
    fire(app, **SALE)
    assert db.session.scalar(select(Conversion.status)) == "pending"


@pytest.mark.parametrize(
    "amount, currency, held",
    [
        ("500.00", "EUR", []),
        ("500.01", "EUR", ["amount_above_ceiling"]),
        ("10.00", "USD", ["amount_currency_not_ceiling"]),  # cannot be compared without exchange rates
        (None, None, []),  # a lead without an amount
    ],
)
def test_the_amount_ceiling_holds_outliers_from_any_source(app, amount, currency, held):
    offer = OfferFactory(slug="shop", review_above_minor=50000, review_above_currency="EUR")
    money = {"amount": amount, "currency": currency} if amount else {}
    event = "sale" if amount else "lead"
    body = expect(
        post_conversion(
            app.test_client(),
            auth("advertiser", advertiser_id=offer.advertiser_id),
            offer="shop",
            event=event,
            order_id="A-1",
            **money,
        ),
        201,
    )
    conversion = db.session.get(Conversion, body["id"])
    assert (conversion.status, conversion.review_reasons) == ("review" if held else "pending", held)


def test_a_signed_pixel_above_the_ceiling_is_held(app):
    offer = OfferFactory(slug="shop", pixel_signing=True, review_above_minor=1000, review_above_currency="EUR")
    fire(app, **SALE, sig=signed(offer.pixel_secret, SALE))
    conversion = db.session.scalar(select(Conversion))
    assert (conversion.status, conversion.review_reasons) == ("review", ["amount_above_ceiling"])
