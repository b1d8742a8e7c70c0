"""The JSON API: keys see only their own data, and bad input is refused with a reason."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from core.db import db
from tests.factories import AdvertiserFactory, LinkFactory, OfferFactory, PartnerFactory, auth, expect
from tests.tracker.helpers import click
from tracker.program.models import Advertiser, Link, Offer, Partner


@pytest.fixture
def program(app):
    vendor, rival = AdvertiserFactory(), AdvertiserFactory()
    offer, rival_offer = OfferFactory(advertiser=vendor), OfferFactory(advertiser=rival)
    distributor = PartnerFactory(kind="distributor")
    reseller = PartnerFactory(kind="reseller", parent_id=distributor.id)
    other = PartnerFactory()
    links = {
        "reseller": LinkFactory(code="res-1", partner=reseller, offer=offer),
        "other": LinkFactory(code="oth-1", partner=other, offer=offer),
        "rival": LinkFactory(code="riv-1", partner=other, offer=rival_offer),
    }
    client = app.test_client()
    for code, times in (("res-1", 3), ("oth-1", 2), ("riv-1", 4)):
        for index in range(times):
            click(client, code, address=f"192.0.2.{index + 1}")
    return dict(
        vendor=vendor,
        rival=rival,
        offer=offer,
        rival_offer=rival_offer,
        reseller=reseller,
        distributor=distributor,
        other=other,
        links=links,
        client=client,
    )


def stats(client, headers, group_by="partner"):
    response = client.get("/api/v1/stats", query_string={"group_by": group_by}, headers=headers)
    assert response.status_code == 200, response.json
    return response.json


def test_partner_key_sees_only_its_own_stats(program):
    body = stats(program["client"], auth("partner", partner_id=program["reseller"].id))
    assert [(row["key"], row["clicks"]) for row in body["rows"]] == [(str(program["reseller"].id), 3)]
    by_link = stats(program["client"], auth("partner", partner_id=program["other"].id), "link")
    assert {row["label"]: row["clicks"] for row in by_link["rows"]} == {"oth-1": 2, "riv-1": 4}


def test_advertiser_key_sees_only_its_own_offers(program):
    body = stats(program["client"], auth("advertiser", advertiser_id=program["vendor"].id), "offer")
    assert [(row["label"], row["clicks"]) for row in body["rows"]] == [(program["offer"].slug, 5)]
    offers = program["client"].get("/api/v1/offers", headers=auth("advertiser", advertiser_id=program["rival"].id))
    assert [o["id"] for o in offers.json["items"]] == [program["rival_offer"].id]


def test_admin_sees_everything_with_totals(program):
    body = stats(program["client"], auth("admin"), "day")
    totals = {name: body["totals"][name] for name in ("key", "clicks", "unique_clicks", "bot_clicks", "leads")}
    assert totals == {"key": None, "clicks": 9, "unique_clicks": 9, "bot_clicks": 0, "leads": 0}


def test_stats_count_bots_apart(app):
    LinkFactory(code="bots-1")
    client = app.test_client()
    click(client, "bots-1")
    click(client, "bots-1", user_agent="python-requests/2.32")
    assert stats(client, auth("admin"))["totals"]["bot_clicks"] == 1


def test_partner_creates_links_only_for_itself(program):
    client, reseller = program["client"], program["reseller"]
    headers = auth("partner", partner_id=reseller.id)
    created = client.post("/api/v1/links", json={"offer_id": program["offer"].id, "sub1": "mail"}, headers=headers)
    assert created.status_code == 201
    assert created.json["partner_id"] == reseller.id and created.json["url"].endswith("/c/" + created.json["code"])
    refused = client.post(
        "/api/v1/links", json={"offer_id": program["offer"].id, "partner_id": program["other"].id}, headers=headers
    )
    assert refused.status_code == 403 and "own partner" in refused.json["error"]
    listed = client.get("/api/v1/links", headers=headers).json["items"]
    assert {link["partner_id"] for link in listed} == {reseller.id}


def test_distributor_sees_its_resellers_in_the_partner_list(program):
    headers = auth("partner", partner_id=program["distributor"].id)
    listed = program["client"].get("/api/v1/partners", headers=headers).json["items"]
    assert {p["id"] for p in listed} == {program["distributor"].id, program["reseller"].id}


def test_admin_builds_a_program_through_the_api(app):
    client, headers = app.test_client(), auth("admin")
    advertiser = expect(
        client.post("/api/v1/advertisers", headers=headers, json={"name": "Acme", "contact_email": "p@acme.example"}),
        201,
    )
    offer = expect(
        client.post(
            "/api/v1/offers",
            headers=headers,
            json={
                "advertiser_id": advertiser["id"],
                "name": "Acme ERP",
                "slug": "acme-erp",
                "landing_url": "https://acme.example/erp",
                "allowed_hosts": ["Docs.Acme.Example", "*.acme.example"],
                "token_param": "hid",
                "custom_events": ["demo_booked"],
                "conflict_rule": "binding_wins",
                "pixel_requires_approval": True,
                "deal_registration_days": 120,
            },
        ),
        201,
    )
    assert offer["allowed_hosts"] == ["docs.acme.example", "*.acme.example"]
    assert (
        offer["custom_events"],
        offer["conflict_rule"],
        offer["pixel_requires_approval"],
        offer["deal_registration_days"],
    ) == (["demo_booked"], "binding_wins", True, 120)
    parent = expect(
        client.post(
            "/api/v1/partners",
            headers=headers,
            json={"name": "North", "contact_email": "n@north.example", "kind": "distributor", "country": "de"},
        ),
        201,
    )
    child = expect(
        client.post(
            "/api/v1/partners",
            headers=headers,
            json={
                "name": "South",
                "contact_email": "s@south.example",
                "kind": "reseller",
                "country": "AT",
                "parent_id": parent["id"],
            },
        ),
        201,
    )
    assert (parent["country"], child["parent_id"]) == ("DE", parent["id"])
    link = expect(
        client.post(
            "/api/v1/links",
            headers=headers,
            json={"offer_id": offer["id"], "partner_id": child["id"], "code": "south-erp"},
        ),
        201,
    )
    response = client.get("/c/south-erp", query_string={"to": "https://eu.acme.example/x"})
    assert response.status_code == 302 and "hid=" in response.headers["Location"]
    assert link["url"] == "http://handoff.test/c/south-erp"


def test_pausing_an_offer_takes_effect_on_its_links(app):
    link = LinkFactory(code="pause-me")
    client, headers = app.test_client(), auth("advertiser", advertiser_id=link.offer.advertiser_id)
    assert client.get("/c/pause-me").status_code == 302
    response = client.patch(f"/api/v1/offers/{link.offer_id}", headers=headers, json={"status": "paused"})
    assert response.status_code == 200 and response.json["status"] == "paused"
    assert client.get("/c/pause-me").status_code == 410


def test_requests_without_a_valid_key_are_refused(app):
    client = app.test_client()
    assert client.get("/api/v1/stats").status_code == 401
    assert (
        client.get("/api/v1/stats", headers={"Authorization": "Bearer hk_adm_nope"}).json["error"]
        == "unknown or revoked API key"
    )
    partner = PartnerFactory()
    response = client.post("/api/v1/partners", headers=auth("partner", partner_id=partner.id), json={"name": "x"})
    assert response.status_code == 403


def _ids():
    return {
        "advertiser": db.session.scalar(select(Advertiser.id)),
        "offer": db.session.scalar(select(Offer.id)),
        "partner": db.session.scalar(select(Partner.id)),
    }


BAD_REQUESTS = [
    ("post", "/api/v1/advertisers", {"name": "", "contact_email": "x@y.example"}, "name"),
    ("post", "/api/v1/advertisers", {"name": "A", "contact_email": "not-an-email"}, "contact_email"),
    ("post", "/api/v1/advertisers", {"name": "A", "contact_email": "a@b.example", "extra": 1}, "extra"),
    ("post", "/api/v1/advertisers", "not json", "JSON object"),
    ("post", "/api/v1/advertisers", "[1, 2]", "JSON object"),
    (
        "post",
        "/api/v1/offers",
        {"advertiser_id": "{advertiser}", "name": "O", "slug": "Bad Slug", "landing_url": "https://a.example"},
        "slug",
    ),
    (
        "post",
        "/api/v1/offers",
        {"advertiser_id": "{advertiser}", "name": "O", "slug": "ok-slug", "landing_url": "javascript:alert(1)"},
        "landing_url",
    ),
    (
        "post",
        "/api/v1/offers",
        {
            "advertiser_id": "{advertiser}",
            "name": "O",
            "slug": "ok-slug",
            "landing_url": "https://a.example",
            "allowed_hosts": ["evil.example/path"],
        },
        "allowed_hosts",
    ),
    (
        "post",
        "/api/v1/offers",
        {
            "advertiser_id": "{advertiser}",
            "name": "O",
            "slug": "ok-slug",
            "landing_url": "https://a.example",
            "hold_days": -1,
        },
        "hold_days",
    ),
    (
        "post",
        "/api/v1/offers",
        {"advertiser_id": 999999, "name": "O", "slug": "ok-slug", "landing_url": "https://a.example"},
        "advertiser 999999 does not exist",
    ),
    (
        "post",
        "/api/v1/offers",
        {"name": "O", "slug": "ok-slug", "landing_url": "https://a.example"},
        "advertiser_id is required",
    ),
    ("patch", "/api/v1/offers/{offer}", {"status": "deleted"}, "status"),
    ("patch", "/api/v1/offers/{offer}", {"custom_events": ["sale"]}, "always accepted"),
    ("patch", "/api/v1/offers/{offer}", {"conflict_rule": "coin_flip"}, "conflict_rule"),
    ("patch", "/api/v1/offers/999999", {"status": "paused"}, "offer 999999 not found"),
    (
        "post",
        "/api/v1/partners",
        {"name": "P", "contact_email": "p@p.example", "kind": "friend", "country": "DE"},
        "kind",
    ),
    (
        "post",
        "/api/v1/partners",
        {"name": "P", "contact_email": "p@p.example", "kind": "affiliate", "country": "XX"},
        "country",
    ),
    (
        "post",
        "/api/v1/partners",
        {"name": "P", "contact_email": "p@p.example", "kind": "affiliate", "country": "DE", "parent_id": 999999},
        "parent partner 999999 does not exist",
    ),
    ("post", "/api/v1/links", {"offer_id": "{offer}", "partner_id": "{partner}", "code": "a b"}, "code"),
    ("post", "/api/v1/links", {"offer_id": "{offer}", "partner_id": "{partner}", "sub1": "x" * 256}, "sub1"),
    ("post", "/api/v1/links", {"offer_id": 999999, "partner_id": "{partner}"}, "offer 999999 does not exist"),
    ("post", "/api/v1/links", {"offer_id": "{offer}", "partner_id": "{partner}", "code": "taken-code"}, "taken"),
    ("get", "/api/v1/stats?group_by=week", None, "group_by"),
    ("get", "/api/v1/stats?from=2026-02-30", None, "from"),
    ("get", "/api/v1/stats?from=2026-05-01&to=2026-04-01", None, "'from' must not be after 'to'"),
    ("get", "/api/v1/stats?from=2020-01-01&to=2026-01-01", None, "at most 366 days"),
    ("get", "/api/v1/links?limit=0", None, "limit"),
    ("get", "/api/v1/offers?offset=-1", None, "offset"),
]


def _fill(value, ids):
    if isinstance(value, str) and value.startswith("{") and value.endswith("}") and value[1:-1] in ids:
        return ids[value[1:-1]]
    if isinstance(value, dict):
        return {k: _fill(v, ids) for k, v in value.items()}
    return value


@pytest.mark.parametrize(
    "method, path, body, reason", BAD_REQUESTS, ids=[f"{m} {p} {r}"[:60] for m, p, _, r in BAD_REQUESTS]
)
def test_bad_input_is_refused_with_a_reason_and_writes_nothing(app, method, path, body, reason):
    LinkFactory(code="taken-code")
    ids = _ids()
    before = {
        model: db.session.scalar(select(func.count()).select_from(model))
        for model in (Advertiser, Offer, Partner, Link)
    }
    kwargs = {"data": body, "content_type": "application/json"} if isinstance(body, str) else {"json": _fill(body, ids)}
    if body is None:
        kwargs = {}
    response = getattr(app.test_client(), method)(path.format(**ids), headers=auth("admin"), **kwargs)
    assert 400 <= response.status_code < 500, response.json
    assert reason in response.json["error"] or any(reason in d["field"] for d in response.json.get("details", []))
    db.session.rollback()
    after = {
        model: db.session.scalar(select(func.count()).select_from(model))
        for model in (Advertiser, Offer, Partner, Link)
    }
    assert after == before


def test_openapi_describes_every_endpoint(app):
    spec = app.test_client().get("/api/v1/openapi.json").json
    assert set(spec["paths"]) == {
        "/api/v1/advertisers",
        "/api/v1/offers",
        "/api/v1/offers/{offer_id}",
        "/api/v1/offers/{offer_id}/pixel",
        "/api/v1/offers/{offer_id}/pixel/rotate-secret",
        "/api/v1/partners",
        "/api/v1/links",
        "/api/v1/stats",
        "/api/v1/conversions",
        "/api/v1/conversions/{conversion_id}",
        "/api/v1/conversions/{conversion_id}/approve",
        "/api/v1/conversions/{conversion_id}/reject",
        "/api/v1/conversions/{conversion_id}/reverse",
        "/api/v1/deal-registrations",
        "/api/v1/deal-registrations/{registration_id}/reassign",
        "/api/v1/coupons",
        "/api/v1/postback",
        "/api/v1/postback/deliveries",
        "/api/v1/postback/test",
        "/api/v1/banners",
        "/api/v1/partners/{partner_id}/tax-profile",
        "/api/v1/tax/regimes",
        "/api/v1/tax/quotes",
        "/api/v1/offers/{offer_id}/commission-plan",
        "/api/v1/commissions",
        "/api/v1/balances",
        "/api/v1/adjustments",
        "/api/v1/payout-batches",
        "/api/v1/payout-batches/{batch_id}",
        "/api/v1/payout-batches/{batch_id}/approve",
        "/api/v1/payout-batches/{batch_id}/void",
        "/api/v1/payout-batches/{batch_id}/rebuild",
        "/api/v1/payout-batches/{batch_id}/mark-paid",
        "/api/v1/payout-batches/{batch_id}/export.csv",
        "/api/v1/payout-batches/{batch_id}/export.xlsx",
        "/api/v1/payout-batches/{batch_id}/export.sepa.xml",
        "/api/v1/payout-batches/{batch_id}/export.journal.csv",
        "/api/v1/payout-batches/{batch_id}/statements/{partner_id}.html",
        "/api/v1/payout-batches/{batch_id}/invoices/{partner_id}.html",
        "/api/v1/tax/regimes/{code}",
        "/api/v1/tax/regimes/{code}/edit",
        "/api/v1/catalog/families",
        "/api/v1/catalog/families/{code}",
        "/api/v1/catalog/products",
        "/api/v1/catalog/products/import",
        "/api/v1/catalog/products/{sku}",
        "/api/v1/catalog/promotions",
        "/api/v1/catalog/promotions/{promotion_id}",
        "/api/v1/points/adjustments",
        "/api/v1/points/balance",
        "/api/v1/points/entries",
        "/api/v1/points/fund",
        "/api/v1/points/transfers",
        "/api/v1/sellout/conflicts",
        "/api/v1/sellout/conflicts/{conflict_id}/resolve",
        "/api/v1/sellout/template.csv",
        "/api/v1/sellout/uploads",
        "/api/v1/sellout/uploads/{upload_id}",
        "/api/v1/sellout/uploads/{upload_id}/commit",
    }
    assert spec["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
