"""The pixel, coupons and deal registration: carriers for advertisers without an API and partners
who bring a company before any click."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import select

from core.db import db
from tests.factories import LinkFactory, OfferFactory, PartnerFactory, auth, expect, post_conversion
from tests.tracker.helpers import click
from tracker.attribution.models import Conversion, PixelError

T0 = datetime(2031, 7, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def offer(app):
    return OfferFactory(slug="pix", deal_registration_days=90)


def assert_gif(response):
    assert response.status_code == 200 and response.mimetype == "image/gif"
    assert response.data.startswith(b"GIF89a") and len(response.data) < 100
    assert "no-store" in response.headers["Cache-Control"]


def test_pixel_records_an_unsigned_pixel_conversion_held_for_review(app, offer):
    LinkFactory(code="px-1", offer=offer)
    client = app.test_client()
    with time_machine.travel(T0, tick=False):
        location = click(client, "px-1").headers["Location"]
    token = location.split("atk=")[1].split("#")[0]
    with time_machine.travel(T0 + timedelta(minutes=5), tick=False):
        assert_gif(client.get(f"/p/pix.gif?event=sale&order_id=T-9&amount=49.90&currency=eur&atk={token}"))
    conversion = db.session.scalar(select(Conversion))
    assert (conversion.source, conversion.carrier, conversion.amount_minor, conversion.status) == (
        "pixel",
        "token",
        4990,
        "review",
    )
    assert conversion.review_reasons == ["unsigned_pixel"]


def test_offer_may_require_approval_for_pixel_conversions_it_otherwise_trusts(app):
    OfferFactory(slug="strict", pixel_requires_approval=True, trusted_channels=["api", "pixel"])
    assert_gif(app.test_client().get("/p/strict.gif?event=lead&order_id=1"))
    conversion = db.session.scalar(select(Conversion))
    assert conversion.status == "review" and conversion.review_reasons == ["pixel_needs_approval"]


@pytest.mark.parametrize(
    "query, reason",
    [
        ("event=sale", "order_id is required"),
        ("event=sale&order_id=1&amount=1.234&currency=EUR", "EUR has 2 decimal places"),
        ("event=sale&order_id=1&amount=abc&currency=EUR", "not a number"),
        ("event=sale&order_id=1&amount=5&currency=ZZZ", "ISO 4217"),
        ("event=bogus&order_id=1", "has no event"),
    ],
)
def test_pixel_with_bad_input_still_answers_a_gif_and_records_why(app, offer, query, reason):
    assert_gif(app.test_client().get(f"/p/pix.gif?{query}"))
    errors = db.session.scalars(select(PixelError)).all()
    assert len(errors) == 1 and reason in errors[0].reason
    assert db.session.scalar(select(Conversion)) is None


def test_pixel_for_an_unknown_offer_still_answers_a_gif(app):
    assert_gif(app.test_client().get("/p/nope.gif?order_id=1"))
    assert "unknown offer" in db.session.scalar(select(PixelError.reason))


def test_coupons_are_case_insensitive_and_unique(app, offer):
    partner = PartnerFactory()
    admin = auth("admin")
    client = app.test_client()
    created = client.post(
        "/api/v1/coupons", headers=admin, json={"code": "Spring25", "partner_id": partner.id, "offer_id": offer.id}
    )
    assert created.status_code == 201 and created.json["code"] == "SPRING25"
    again = client.post(
        "/api/v1/coupons", headers=admin, json={"code": "spring25", "partner_id": partner.id, "offer_id": offer.id}
    )
    assert again.status_code == 409
    sale = post_conversion(
        client,
        auth("advertiser", advertiser_id=offer.advertiser_id),
        offer="pix",
        event="sale",
        order_id="C-1",
        amount="10",
        currency="EUR",
        coupon="spring25",
    )
    assert (sale.json["partner_id"], sale.json["attributed_by"]) == (partner.id, "coupon")


def test_first_deal_registration_wins_and_a_sale_follows_it(app, offer):
    first, second = PartnerFactory(), PartnerFactory()
    client = app.test_client()
    with time_machine.travel(T0, tick=False):
        accepted = client.post(
            "/api/v1/deal-registrations",
            headers=auth("partner", partner_id=first.id),
            json={
                "offer_id": offer.id,
                "company_domain": "https://www.Tailspin-Toys.example/",
                "company_name": "Tailspin Toys",
            },
        )
        refused = client.post(
            "/api/v1/deal-registrations",
            headers=auth("partner", partner_id=second.id),
            json={"offer_id": offer.id, "company_domain": "tailspin-toys.example"},
        )
        mine_again = client.post(
            "/api/v1/deal-registrations",
            headers=auth("partner", partner_id=first.id),
            json={"offer_id": offer.id, "company_domain": "tailspin-toys.example"},
        )
    assert accepted.status_code == 201 and accepted.json["key_value"] == "tailspin-toys.example"
    assert refused.status_code == 409 and "already registered by another partner" in refused.json["error"]
    assert mine_again.status_code == 409 and "registered by you" in mine_again.json["error"]
    with time_machine.travel(T0 + timedelta(days=10), tick=False):
        sale = post_conversion(
            client,
            auth("advertiser", advertiser_id=offer.advertiser_id),
            offer="pix",
            event="sale",
            order_id="D-1",
            amount="900",
            currency="EUR",
            customer={"email": "cfo@tailspin-toys.example"},
        )
    assert (sale.json["partner_id"], sale.json["attributed_by"]) == (first.id, "deal")
    listed = client.get("/api/v1/deal-registrations", headers=auth("partner", partner_id=second.id)).json["items"]
    assert listed == []


def test_lapsed_registration_frees_the_company_and_admins_can_reassign(app, offer):
    first, second, third = PartnerFactory(), PartnerFactory(), PartnerFactory()
    client = app.test_client()
    body = {"offer_id": offer.id, "tax_id": "DE136695976"}
    with time_machine.travel(T0, tick=False):
        first_claim = client.post("/api/v1/deal-registrations", headers=auth("partner", partner_id=first.id), json=body)
    assert expect(first_claim, 201)["partner_id"] == first.id
    with time_machine.travel(T0 + timedelta(days=91), tick=False):
        taken = client.post("/api/v1/deal-registrations", headers=auth("partner", partner_id=second.id), json=body)
    assert taken.status_code == 201 and taken.json["partner_id"] == second.id
    moved = client.post(
        f"/api/v1/deal-registrations/{taken.json['id']}/reassign",
        headers=auth("admin"),
        json={"partner_id": third.id, "reason": "second partner left the program"},
    )
    assert moved.json["partner_id"] == third.id and "left the program" in moved.json["note"]
    bad = client.post(
        "/api/v1/deal-registrations",
        headers=auth("partner", partner_id=first.id),
        json={"offer_id": offer.id, "tax_id": "DE000000000"},
    )
    assert bad.status_code == 422 and "not a valid EU VAT number" in bad.json["error"]


def test_stats_follow_the_chain_from_click_to_revenue(app, offer):
    partner = PartnerFactory()
    LinkFactory(code="st-chain", partner=partner, offer=offer)
    client = app.test_client()
    vendor = auth("advertiser", advertiser_id=offer.advertiser_id)
    with time_machine.travel(T0, tick=False):
        tokens_ = [
            click(client, "st-chain", address=f"198.51.100.{n}").headers["Location"].split("atk=")[1].split("#")[0]
            for n in range(1, 5)
        ]
    with time_machine.travel(T0 + timedelta(hours=1), tick=False):
        for n, token in enumerate(tokens_[:2]):
            expect(post_conversion(client, vendor, offer="pix", event="lead", order_id=f"L-{n}", token=token), 201)
        for order_id, token, amount in (("S-1", tokens_[0], "100.00"), ("S-2", tokens_[1], "50.01")):
            sale = post_conversion(
                client, vendor, offer="pix", event="sale", order_id=order_id, token=token, amount=amount, currency="EUR"
            )
            assert expect(sale, 201)["partner_id"] == partner.id
        body = client.get(
            "/api/v1/stats",
            query_string={"group_by": "partner", "from": "2031-07-01", "to": "2031-07-01"},
            headers=vendor,
        ).json
    row = body["rows"][0]
    assert (row["clicks"], row["unique_clicks"], row["leads"], row["sales"]) == (4, 4, 2, 2)
    assert row["revenue"] == {"EUR": "150.01"} and row["S1"] == {"EUR": "75.00"}
    assert (row["L1"], row["L2"]) == (0.5, 1.0)
    assert body["totals"]["revenue"] == {"EUR": "150.01"}
