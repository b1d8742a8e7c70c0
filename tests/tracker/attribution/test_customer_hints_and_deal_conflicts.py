"""A customer field the conversion cannot use costs it nothing, and another partner's deal registration
is never overridden without a person looking."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import time_machine
from sqlalchemy import func, select

from core.db import db
from tests.factories import LinkFactory, OfferFactory, PartnerFactory, auth, expect, post_conversion
from tests.tracker.helpers import click
from tracker.attribution.models import Conversion, CustomerBinding, PixelError

T0 = datetime(2031, 8, 1, 9, 0, tzinfo=UTC)
LATER = T0 + timedelta(hours=1)
# Ten digits, so read as a Russian INN, with a wrong check digit.
BAD_INN = "7707083894"


@pytest.fixture
def offer(app):
    return OfferFactory(slug="hints", deal_registration_days=90)


def vendor_of(offer):
    return auth("advertiser", advertiser_id=offer.advertiser_id)


def token_for(client, code: str, address: str = "198.51.100.7") -> str:
    return parse_qs(urlsplit(click(client, code, address=address).headers["Location"]).query)["atk"][0]


def bindings() -> set[tuple[str, str, int]]:
    return {(b.key_type, b.key_value, b.partner_id) for b in db.session.scalars(select(CustomerBinding))}


def register(client, offer, partner, domain: str) -> None:
    headers = auth("partner", partner_id=partner.id)
    expect(
        client.post(
            "/api/v1/deal-registrations", headers=headers, json={"offer_id": offer.id, "company_domain": domain}
        ),
        201,
    )


def test_a_mistyped_tax_id_is_ignored_and_noted_while_the_token_attributes_and_the_email_binds(app, offer):
    link = LinkFactory(code="h-1", offer=offer)
    client = app.test_client()
    with time_machine.travel(T0, tick=False):
        token = token_for(client, "h-1")
    with time_machine.travel(LATER, tick=False):
        response = post_conversion(
            client,
            vendor_of(offer),
            offer="hints",
            event="lead",
            order_id="L-1",
            token=token,
            customer={"email": "Ops@Contoso-Bikes.example", "tax_id": BAD_INN},
        )
    lead = expect(response, 201)
    assert (lead["partner_id"], lead["attributed_by"], lead["status"]) == (link.partner_id, "token", "pending")
    assert "not a valid Russian INN" in lead["attribution_notes"]["ignored"]["customer.tax_id"]
    stored = db.session.get(Conversion, lead["id"])
    assert stored.customer_tax_id is None and stored.customer_email == "ops@contoso-bikes.example"
    assert bindings() == {
        ("email", "ops@contoso-bikes.example", link.partner_id),
        ("domain", "contoso-bikes.example", link.partner_id),
    }


@pytest.mark.parametrize(
    "customer, field, reason",
    [
        ({"email": "not-an-email"}, "customer.email", "customer email"),
        ({"company_domain": "co.uk"}, "customer.company_domain", "not a registrable domain"),
        ({"company_domain": "not a domain!"}, "customer.company_domain", "company domain"),
        ({"tax_id": "12345"}, "customer.tax_id", "is not an EU VAT number, Russian INN or US EIN"),
        ({"tax_id": "DE000000000"}, "customer.tax_id", "not a valid EU VAT number"),
    ],
)
def test_each_unusable_customer_field_is_ignored_and_the_sale_stored(app, offer, customer, field, reason):
    link = LinkFactory(code="h-2", offer=offer)
    client = app.test_client()
    with time_machine.travel(T0, tick=False):
        token = token_for(client, "h-2")
    with time_machine.travel(LATER, tick=False):
        response = post_conversion(
            client,
            vendor_of(offer),
            offer="hints",
            event="sale",
            order_id="S-1",
            amount="120.00",
            currency="EUR",
            token=token,
            customer=customer,
        )
    sale = expect(response, 201)
    assert (sale["partner_id"], sale["amount"]) == (link.partner_id, "120.00")
    assert list(sale["attribution_notes"]["ignored"]) == [field]
    assert reason in sale["attribution_notes"]["ignored"][field]
    listed = client.get(f"/api/v1/conversions/{sale['id']}", headers=vendor_of(offer))
    assert expect(listed, 200)["attribution_notes"]["ignored"] == sale["attribution_notes"]["ignored"]


@pytest.mark.parametrize(
    "body, reason",
    [
        ({"customer": {"tax_id": "77070\x0083895"}}, "customer.tax_id"),
        ({"customer": {"email": "a" * 255}}, "customer.email"),
        ({"amount": "5", "currency": "EURO"}, "currency"),
        ({"event": "refund"}, "has no event 'refund'"),
    ],
)
def test_what_is_wrong_with_the_conversion_itself_is_still_refused(app, offer, body, reason):
    payload = {"offer": "hints", "event": "sale", "order_id": "B-1", **body}
    response = app.test_client().post("/api/v1/conversions", json=payload, headers=vendor_of(offer))
    assert response.status_code == 422
    assert reason in response.json["error"] or any(reason in d["field"] for d in response.json.get("details", []))
    assert db.session.scalar(select(func.count()).select_from(Conversion)) == 0


def test_the_pixel_ignores_an_unusable_customer_field_the_same_way(app, offer):
    link = LinkFactory(code="h-3", offer=offer)
    client = app.test_client()
    with time_machine.travel(T0, tick=False):
        token = token_for(client, "h-3")
    query = {
        "event": "lead",
        "order_id": "P-1",
        "atk": token,
        "email": "ops@contoso-bikes.example",
        "tax_id": BAD_INN,
        "domain": "x" * 5000,
    }
    with time_machine.travel(LATER, tick=False):
        response = client.get(f"/p/hints.gif?{urlencode(query)}")
    assert response.status_code == 200 and response.mimetype == "image/gif"
    assert db.session.scalar(select(func.count()).select_from(PixelError)) == 0
    stored = db.session.scalar(select(Conversion))
    assert (stored.partner_id, stored.carrier, stored.customer_tax_id) == (link.partner_id, "token", None)
    ignored = stored.attribution_notes["ignored"]
    assert set(ignored) == {"customer.tax_id", "customer.company_domain"}
    assert "not a valid Russian INN" in ignored["customer.tax_id"]
    assert len(ignored["customer.company_domain"]) <= 200
    # The bad domain is ignored, so the company is still known from the email.
    assert bindings() == {
        ("email", "ops@contoso-bikes.example", link.partner_id),
        ("domain", "contoso-bikes.example", link.partner_id),
    }


@pytest.mark.parametrize("rule, winner", [("token_wins", "token_partner"), ("binding_wins", "registrant")])
def test_another_partners_token_against_an_active_deal_registration_is_held(app, rule, winner):
    offer = OfferFactory(slug="deals", conflict_rule=rule, deal_registration_days=90)
    partners = {"registrant": PartnerFactory(), "token_partner": PartnerFactory()}
    LinkFactory(code="dl-t", partner=partners["token_partner"], offer=offer)
    client = app.test_client()
    with time_machine.travel(T0, tick=False):
        register(client, offer, partners["registrant"], "acme.example")
        token = token_for(client, "dl-t")
    with time_machine.travel(LATER, tick=False):
        response = post_conversion(
            client,
            vendor_of(offer),
            offer="deals",
            event="sale",
            order_id="S-1",
            amount="900",
            currency="EUR",
            token=token,
            customer={"email": "buyer@acme.example"},
        )
    sale = expect(response, 201)
    assert sale["status"] == "review" and sale["review_reasons"] == ["deal_registration_conflict"]
    assert sale["partner_id"] == partners[winner].id
    assert sale["attributed_by"] == ("token" if winner == "token_partner" else "deal")
    assert (sale["click_id"] is not None) == (winner == "token_partner")
    note = sale["attribution_notes"]["deal_conflict"]
    registrant, token_partner = partners["registrant"].id, partners["token_partner"].id
    assert (note["deal_partner_id"], note["carrier_partner_id"], note["carrier"]) == (
        registrant,
        token_partner,
        "token",
    )
    assert (note["rule"], note["winner_partner_id"], note["company"]) == (rule, partners[winner].id, "acme.example")
    assert f"partner {registrant} registered acme.example" in note["message"]
    assert f"names partner {token_partner}" in note["message"]


def test_a_binding_from_a_later_lead_does_not_take_a_registered_company_unseen(app):
    offer = OfferFactory(slug="deals", conflict_rule="token_wins", deal_registration_days=90)
    registrant, other = PartnerFactory(), PartnerFactory()
    LinkFactory(code="dl-l", partner=other, offer=offer)
    client = app.test_client()
    with time_machine.travel(T0, tick=False):
        register(client, offer, registrant, "acme.example")
        token = token_for(client, "dl-l")
    with time_machine.travel(LATER, tick=False):
        lead = post_conversion(
            client,
            vendor_of(offer),
            offer="deals",
            event="lead",
            order_id="L-1",
            token=token,
            customer={"email": "buyer@acme.example"},
        )
        assert "deal_registration_conflict" in expect(lead, 201)["review_reasons"]
    with time_machine.travel(LATER + timedelta(days=3), tick=False):
        response = post_conversion(
            client,
            vendor_of(offer),
            offer="deals",
            event="sale",
            order_id="S-1",
            amount="900",
            currency="EUR",
            customer={"email": "cfo@acme.example"},
        )
    sale = expect(response, 201)
    assert (sale["partner_id"], sale["attributed_by"], sale["status"]) == (other.id, "customer", "review")
    assert sale["review_reasons"] == ["deal_registration_conflict"]
    note = sale["attribution_notes"]["deal_conflict"]
    assert (note["deal_partner_id"], note["carrier_partner_id"], note["carrier"]) == (
        registrant.id,
        other.id,
        "customer",
    )


@pytest.mark.parametrize("registrant", [None, "token_partner"])
def test_without_a_registration_by_another_partner_nothing_is_held(app, registrant):
    offer = OfferFactory(slug="deals", conflict_rule="binding_wins", deal_registration_days=90)
    token_partner = PartnerFactory()
    LinkFactory(code="dl-n", partner=token_partner, offer=offer)
    client = app.test_client()
    with time_machine.travel(T0, tick=False):
        if registrant:
            register(client, offer, token_partner, "acme.example")
        else:
            register(client, offer, PartnerFactory(), "other-company.example")
        token = token_for(client, "dl-n")
    with time_machine.travel(LATER, tick=False):
        response = post_conversion(
            client,
            vendor_of(offer),
            offer="deals",
            event="sale",
            order_id="S-1",
            amount="900",
            currency="EUR",
            token=token,
            customer={"email": "buyer@acme.example"},
        )
    sale = expect(response, 201)
    assert (sale["partner_id"], sale["attributed_by"], sale["status"]) == (token_partner.id, "token", "pending")
    assert sale["review_reasons"] == [] and "deal_conflict" not in sale["attribution_notes"]
