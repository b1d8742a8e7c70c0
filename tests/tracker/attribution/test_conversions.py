"""Server-to-server conversions: validation, idempotency under concurrency, status changes, fraud holds."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import time_machine
from sqlalchemy import func, select

from core.db import db
from tests.factories import LinkFactory, OfferFactory, PartnerFactory, auth, expect, post_conversion
from tests.tracker.helpers import click
from tracker.attribution.models import Conversion

T0 = datetime(2031, 6, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def offer(app):
    return OfferFactory(slug="suite", custom_events=["demo_booked"])


@pytest.fixture
def vendor(offer):
    return auth("advertiser", advertiser_id=offer.advertiser_id)


def token_from(response) -> str:
    return parse_qs(urlsplit(response.headers["Location"]).query)["atk"][0]


@pytest.mark.parametrize(
    "amount, currency, stored",
    [
        ("199.90", "EUR", 19990),
        (199.90, "EUR", 19990),
        (100, "JPY", 100),
        ("1.005", "BHD", 1005),
        ("0", "USD", 0),
    ],
)
def test_amounts_are_stored_exactly_in_minor_units(app, offer, vendor, amount, currency, stored):
    response = post_conversion(
        app.test_client(), vendor, offer="suite", event="sale", order_id="A-1", amount=amount, currency=currency
    )
    assert response.status_code == 201, response.json
    assert db.session.scalar(select(Conversion.amount_minor)) == stored


@pytest.mark.parametrize(
    "body, reason",
    [
        ({"amount": "10.001", "currency": "EUR"}, "EUR has 2 decimal places"),
        ({"amount": "10.5", "currency": "JPY"}, "JPY has 0 decimal places"),
        ({"amount": "-5", "currency": "EUR"}, "must not be negative"),
        ({"amount": "5", "currency": "EURO"}, "currency"),
        ({"amount": "5", "currency": "XAU"}, "not a currency money can be paid in"),
        ({"amount": "5"}, "amount and currency come together"),
        ({"amount": "NaN", "currency": "EUR"}, "amount"),
        ({"event": "refund"}, "has no event 'refund'"),
        ({"event": "Sale!"}, "event"),
        ({"order_id": ""}, "order_id"),
        ({"offer": "no-such-offer"}, "not found"),
        ({"occurred_at": "2031-06-01T09:00:00"}, "occurred_at"),
        ({"token": "x" * 65}, "token"),
    ],
)
def test_bad_conversions_are_refused_with_a_reason_and_write_nothing(app, offer, vendor, body, reason):
    payload = {"offer": "suite", "event": "sale", "order_id": "B-1", **body}
    response = app.test_client().post("/api/v1/conversions", json=payload, headers=vendor)
    assert 400 <= response.status_code < 500
    assert reason in response.json["error"] or any(reason in d["field"] for d in response.json.get("details", []))
    assert db.session.scalar(select(func.count()).select_from(Conversion)) == 0


def test_a_repeat_returns_the_same_conversion(app, offer, vendor):
    client = app.test_client()
    first = post_conversion(client, vendor, offer="suite", event="sale", order_id="R-1", amount="5", currency="EUR")
    again = post_conversion(client, vendor, offer=offer.id, event="sale", order_id="R-1", amount="7", currency="EUR")
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json["id"] == first.json["id"] and again.json["amount"] == "5.00"


@pytest.mark.parametrize("app", ["postgresql"], indirect=True)
def test_concurrent_duplicates_make_exactly_one_row(app, offer, vendor):
    barrier = threading.Barrier(12)
    answers = []

    def send():
        client = app.test_client()
        barrier.wait()
        answers.append(
            post_conversion(
                client, vendor, offer="suite", event="sale", order_id="RACE-1", amount="42.00", currency="EUR"
            )
        )

    threads = [threading.Thread(target=send) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(a.status_code for a in answers).count(201) == 1
    assert {a.json["id"] for a in answers} == {answers[0].json["id"]}
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Conversion)) == 1


def test_advertiser_cannot_post_to_or_read_another_advertisers_offer(app, offer):
    other_vendor = auth("advertiser", advertiser_id=OfferFactory().advertiser_id)
    client = app.test_client()
    assert post_conversion(client, other_vendor, offer="suite", event="lead", order_id="X").status_code == 404
    mine = post_conversion(
        client, auth("advertiser", advertiser_id=offer.advertiser_id), offer="suite", event="lead", order_id="X"
    )
    assert client.get(f"/api/v1/conversions/{mine.json['id']}", headers=other_vendor).status_code == 404


def test_status_changes_keep_who_and_why(app, offer, vendor):
    client = app.test_client()
    created = expect(post_conversion(client, vendor, offer="suite", event="demo_booked", order_id="S-1"), 201)
    path = f"/api/v1/conversions/{created['id']}"
    assert client.post(f"{path}/reject", json={}, headers=vendor).status_code == 422  # reason required
    assert client.post(f"{path}/reverse", json={"reason": "x"}, headers=vendor).status_code == 409
    approved = client.post(f"{path}/approve", json={"reason": "checked in CRM"}, headers=vendor)
    assert approved.json["status"] == "approved"
    reversed_ = expect(client.post(f"{path}/reverse", json={"reason": "refunded"}, headers=vendor), 200)
    assert [(e["from_status"], e["to_status"], e["reason"]) for e in reversed_["events"]] == [
        (None, "pending", ""),
        ("pending", "approved", "checked in CRM"),
        ("approved", "reversed", "refunded"),
    ]
    assert all(e["actor"].startswith("advertiser key #") for e in reversed_["events"])
    partner = PartnerFactory()
    assert client.post(f"{path}/approve", json={}, headers=auth("partner", partner_id=partner.id)).status_code == 403


def test_partner_sees_only_its_own_conversions(app, offer, vendor):
    mine, other = PartnerFactory(), PartnerFactory()
    LinkFactory(code="p-mine", partner=mine, offer=offer)
    client = app.test_client()
    with time_machine.travel(T0, tick=False):
        token = token_from(click(client, "p-mine"))
    with time_machine.travel(T0 + timedelta(hours=1), tick=False):
        attributed = post_conversion(client, vendor, offer="suite", event="lead", order_id="P-1", token=token)
        assert expect(attributed, 201)["partner_id"] == mine.id
        assert (
            expect(post_conversion(client, vendor, offer="suite", event="lead", order_id="P-2"), 201)["partner_id"]
            is None
        )
    assert [
        c["order_id"]
        for c in client.get("/api/v1/conversions", headers=auth("partner", partner_id=mine.id)).json["items"]
    ] == ["P-1"]
    assert client.get("/api/v1/conversions", headers=auth("partner", partner_id=other.id)).json["items"] == []


def test_fraud_signals_hold_conversions_for_review(app, offer, vendor):
    partner = PartnerFactory(contact_email="owner@self-dealer.example")
    LinkFactory(code="fr-1", partner=partner, offer=offer)
    client = app.test_client()
    with time_machine.travel(T0, tick=False):
        token = token_from(click(client, "fr-1"))
        bot_token = token_from(click(client, "fr-1", user_agent="python-requests/2.32"))
        fast = expect(post_conversion(client, vendor, offer="suite", event="lead", order_id="F-1", token=token), 201)
    with time_machine.travel(T0 + timedelta(hours=1), tick=False):
        bot = expect(post_conversion(client, vendor, offer="suite", event="lead", order_id="F-2", token=bot_token), 201)
        own = post_conversion(
            client,
            vendor,
            offer="suite",
            event="lead",
            order_id="F-3",
            token=token,
            customer={"email": "cousin@self-dealer.example"},
        )
        own = expect(own, 201)
    assert fast["status"] == "review" and "too_fast_after_click" in fast["review_reasons"]
    assert bot["partner_id"] is None and "bot_click" in bot["review_reasons"]
    assert own["status"] == "review" and "self_referral" in own["review_reasons"]


def test_bursts_from_one_network_are_held(app, offer, vendor):
    LinkFactory(code="burst-1", offer=offer)
    client = app.test_client()
    with time_machine.travel(T0, tick=False):
        tokens_ = [token_from(click(client, "burst-1", address=f"203.0.113.{n}")) for n in range(1, 23)]
    with time_machine.travel(T0 + timedelta(hours=2), tick=False):
        held = expect(
            post_conversion(client, vendor, offer="suite", event="lead", order_id="B-1", token=tokens_[0]), 201
        )
    assert "ip_burst" in held["review_reasons"]


@pytest.mark.parametrize("rule, winner", [("token_wins", "token_partner"), ("binding_wins", "bound_partner")])
def test_token_against_older_binding_follows_the_offer_rule(app, rule, winner):
    offer = OfferFactory(slug="conflict", conflict_rule=rule)
    vendor = auth("advertiser", advertiser_id=offer.advertiser_id)
    partners = {"bound_partner": PartnerFactory(), "token_partner": PartnerFactory()}
    LinkFactory(code="cf-b", partner=partners["bound_partner"], offer=offer)
    LinkFactory(code="cf-t", partner=partners["token_partner"], offer=offer)
    client = app.test_client()
    with time_machine.travel(T0, tick=False):
        first = token_from(click(client, "cf-b"))
        second = token_from(click(client, "cf-t", address="198.51.100.99"))
    with time_machine.travel(T0 + timedelta(hours=1), tick=False):
        lead = post_conversion(
            client,
            vendor,
            offer="conflict",
            event="lead",
            order_id="L-1",
            token=first,
            customer={"company_domain": "northwind-traders.example"},
        )
        assert expect(lead, 201)["partner_id"] == partners["bound_partner"].id
        sale = post_conversion(
            client,
            vendor,
            offer="conflict",
            event="sale",
            order_id="S-1",
            token=second,
            amount="10",
            currency="EUR",
            customer={"email": "buyer@northwind-traders.example"},
        )
        sale = expect(sale, 201)
    assert sale["partner_id"] == partners[winner].id
    assert sale["attribution_notes"]["conflict"]["rule"] == rule
    assert "attribution_conflict" in sale["review_reasons"]
