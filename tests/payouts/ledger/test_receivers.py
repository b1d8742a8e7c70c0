"""The ledger's receivers seen from outside: a partner's postback reports the commission it accrued.

Everything goes through the API: the admin sets a commission plan, the partner sets its postback URL,
the advertiser posts conversions, and the partner reads its delivery log. No postback is sent; the
queued URL is what the worker would request.
"""

from __future__ import annotations

import socket
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import pytest
import time_machine

from tests.factories import OfferFactory, PartnerFactory, auth, expect, post_conversion

T0 = datetime(2031, 9, 1, 9, 0, tzinfo=UTC)
TEMPLATE = "https://partner.example/pb?o={order_id}&e={event}&a={amount}&c={currency}&st={status}&com={commission}"
PLAN = {
    "currency": "EUR",
    "events": {"lead": {"flat": "12.50"}, "sale": {"percent": "8"}},
    # The distributor's share is its own accrual; the reseller's postback must not include it.
    "parent_override": {"percent": "1", "of": "sale"},
}


@pytest.fixture
def public_dns(monkeypatch):
    """partner.example resolves to a public address, so the target check passes without any network."""
    public = (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.215.14", 443))
    monkeypatch.setattr(socket, "getaddrinfo", lambda *args, **kwargs: [public])


@pytest.fixture
def program(app, public_dns):
    with time_machine.travel(T0, tick=False):
        client, admin = app.test_client(), auth("admin")
        priced, unpriced = OfferFactory(slug="priced"), OfferFactory(slug="unpriced")
        distributor = PartnerFactory(kind="distributor")
        reseller = PartnerFactory(kind="reseller", parent_id=distributor.id)
        for code, offer in (("PRICED", priced), ("PLAIN", unpriced)):
            coupon = {"code": code, "partner_id": reseller.id, "offer_id": offer.id}
            expect(client.post("/api/v1/coupons", headers=admin, json=coupon), 201)
        expect(client.put(f"/api/v1/offers/{priced.id}/commission-plan", json={"plan": PLAN}, headers=admin), 200)
        partner_key = auth("partner", partner_id=reseller.id)
        expect(client.put("/api/v1/postback", json={"url_template": TEMPLATE}, headers=partner_key), 200)
        yield dict(
            client=client,
            admin=admin,
            partner_key=partner_key,
            reseller=reseller,
            distributor=distributor,
            vendors={
                "priced": auth("advertiser", advertiser_id=priced.advertiser_id),
                "unpriced": auth("advertiser", advertiser_id=unpriced.advertiser_id),
            },
        )


def convert(program, offer: str, order_id: str, event: str, **money) -> dict:
    coupon = "PRICED" if offer == "priced" else "PLAIN"
    response = post_conversion(
        program["client"],
        program["vendors"][offer],
        offer=offer,
        event=event,
        order_id=order_id,
        coupon=coupon,
        **money,
    )
    body = expect(response, 201)
    assert body["partner_id"] == program["reseller"].id and body["attributed_by"] == "coupon"
    return body


def queued_urls(program) -> dict[tuple[int, str], str]:
    """(conversion id, delivery kind) -> the URL queued for the reseller."""
    log = expect(program["client"].get("/api/v1/postback/deliveries", headers=program["partner_key"]), 200)
    return {(item["conversion_id"], item["kind"]): item["url"] for item in log["items"]}


def test_the_postback_carries_the_partners_accrued_commission_in_major_units(program):
    with time_machine.travel(T0, tick=False):
        sale = convert(program, "priced", "S-1", "sale", amount="1234.56", currency="EUR")
        lead = convert(program, "priced", "L-1", "lead")
        urls = queued_urls(program)
    # 8% of 1,234.56 is 98.7648: rounded once to the cent. The distributor's 1% (12.35) is not the reseller's.
    assert urls[(sale["id"], "conversion")] == (
        "https://partner.example/pb?o=S-1&e=sale&a=1234.56&c=EUR&st=pending&com=98.76"
    )
    assert urls[(lead["id"], "conversion")] == "https://partner.example/pb?o=L-1&e=lead&a=&c=&st=pending&com=12.50"
    commissions = expect(
        program["client"].get(
            "/api/v1/commissions", query_string={"partner_id": program["distributor"].id}, headers=program["admin"]
        ),
        200,
    )["items"]
    assert [(c["amount"], c["role"]) for c in commissions] == [("12.35", "parent")]


def test_a_status_postback_reports_the_same_commission(program):
    with time_machine.travel(T0, tick=False):
        sale = convert(program, "priced", "S-2", "sale", amount="50.00", currency="EUR")
        approved = program["client"].post(
            f"/api/v1/conversions/{sale['id']}/approve", json={"reason": "paid"}, headers=program["vendors"]["priced"]
        )
        expect(approved, 200)
        urls = queued_urls(program)
    assert parse_qs(urlsplit(urls[(sale["id"], "conversion")]).query)["com"] == ["4.00"]
    assert parse_qs(urlsplit(urls[(sale["id"], "status")]).query)["st"] == ["approved"]
    assert parse_qs(urlsplit(urls[(sale["id"], "status")]).query)["com"] == ["4.00"]


def test_without_a_plan_the_commission_macro_is_empty(program):
    with time_machine.travel(T0, tick=False):
        sale = convert(program, "unpriced", "U-1", "sale", amount="99.99", currency="EUR")
        urls = queued_urls(program)
    assert urls[(sale["id"], "conversion")] == ("https://partner.example/pb?o=U-1&e=sale&a=99.99&c=EUR&st=pending&com=")
