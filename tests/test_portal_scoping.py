"""Every page in every role's portal menu: signed out it asks to sign in, another role gets 403, and a
partner's or an advertiser's page never shows another organisation's rows.

The pages are read from the menu itself (core.people.navigation), so a page added later is covered here
without this test naming it. A rival partner's data carries ``zzpartner2`` in every field a page could
show, a rival advertiser's ``zzvendor2``: a partner sees nothing with the first (the rival advertiser's
offer is one it may promote), an advertiser nothing with the second (the rival partner also works on its
offer, and that conversion is the advertiser's to see).
"""

from __future__ import annotations

import pytest
from flask import Flask

from channel.points.funds import open_fund
from channel.points.ledger import adjust
from channel.sellout.models import SelloutUpload
from core.db import db
from core.people.navigation import portal_pages
from tests.core.people.conftest import cheap_hashes, compiled_catalogues, fresh_request_globals  # noqa: F401
from tests.core.people.helpers import make_person, sign_in
from tests.factories import AdvertiserFactory, LinkFactory, OfferFactory, PartnerFactory, auth, post_conversion
from tracker.attribution.models import Coupon, DealRegistration
from tracker.postbacks.models import PostbackEndpoint

ROLES = ("admin", "advertiser", "finance", "partner")
RIVAL_PARTNER, RIVAL_VENDOR = "zzpartner2", "zzvendor2"
HIDDEN_FROM = {"partner": RIVAL_PARTNER, "advertiser": RIVAL_VENDOR}
PLAN = {"currency": "EUR", "events": {"lead": {"flat": "5.00"}, "sale": {"percent": "10"}}}


def menu_paths(app: Flask, role: str) -> list[str]:
    with app.test_request_context():
        return [page.path for page in portal_pages(role)]


def every_page(app: Flask) -> list[tuple[str, str]]:
    return [(role, path) for role in ROLES for path in menu_paths(app, role)]


def build_world(app: Flask) -> dict:
    """Our partner and advertiser, and a rival of each with activity on every page a portal shows."""
    ours_vendor, rival_vendor = AdvertiserFactory(name="Our Vendor"), AdvertiserFactory(name=f"{RIVAL_VENDOR} Vendor")
    our_offer = OfferFactory(advertiser=ours_vendor, slug="our-offer", name="Our Offer")
    rival_offer = OfferFactory(advertiser=rival_vendor, slug=f"{RIVAL_VENDOR}-offer", name=f"{RIVAL_VENDOR} Offer")
    ours = PartnerFactory(name="Our Partner", contact_email="us@partner.example")
    rival = PartnerFactory(name=f"{RIVAL_PARTNER} Partner", contact_email=f"{RIVAL_PARTNER}@partner.example")
    LinkFactory(partner=ours, offer=our_offer, code="ourlink1")
    # What the rival partner did on each offer is named for both rivals on theirs, for the partner on ours.
    names = {our_offer.id: RIVAL_PARTNER, rival_offer.id: f"{RIVAL_VENDOR}-{RIVAL_PARTNER}"}
    for offer in (our_offer, rival_offer):
        LinkFactory(partner=rival, offer=offer, code=f"{RIVAL_PARTNER}{offer.id}")
        db.session.add(Coupon(code=names[offer.id].upper().replace("-", ""), partner_id=rival.id, offer_id=offer.id))
    db.session.add(
        PostbackEndpoint(
            partner_id=rival.id, url_template=f"https://{RIVAL_PARTNER}.example/pb?c={{click_id}}", active=True
        )
    )
    db.session.commit()
    client, admin = app.test_client(), auth("admin")
    for offer in (our_offer, rival_offer):
        plan = client.put(f"/api/v1/offers/{offer.id}/commission-plan", json={"plan": PLAN}, headers=admin)
        assert plan.status_code == 200, plan.json
        response = post_conversion(
            client,
            auth("advertiser", advertiser_id=offer.advertiser_id),
            offer=offer.slug,
            event="sale",
            order_id=f"{names[offer.id]}-order",
            amount="7777.00",
            currency="EUR",
            coupon=names[offer.id].upper().replace("-", ""),
            customer={"email": f"buyer@{names[offer.id]}-customer.example"},
        )
        assert response.status_code == 201, response.json
    register = client.post(
        "/api/v1/deal-registrations",
        json={"offer_id": our_offer.id, "company_domain": f"{RIVAL_PARTNER}-deal.example"},
        headers=auth("partner", partner_id=rival.id),
    )
    assert register.status_code == 201, register.json
    assert db.session.query(DealRegistration).count() == 1
    # Bonus points: the rival's entries and its person, whom our partner's points page must not offer.
    open_fund("Loyalty", 900_000, 50, "EUR")
    adjust(rival.id, 500, f"{RIVAL_PARTNER} welcome bonus", "admin")
    make_person("partner", email=f"rep@{RIVAL_PARTNER}.example", partner_id=rival.id)
    # Sell-out: the rival's committed upload, which our partner's upload list must not show.
    rival_upload = {"sha256": "0" * 64, "file_name": f"{RIVAL_PARTNER}-sellout.csv", "state": "committed"}
    db.session.add(SelloutUpload(uploader_partner_id=rival.id, created_by=RIVAL_PARTNER, **rival_upload))
    make_person("partner", partner_id=ours.id)
    make_person("advertiser", advertiser_id=ours_vendor.id)
    make_person("admin")
    make_person("finance")
    return {"partner": ours, "advertiser": ours_vendor}


@pytest.mark.parametrize("app", ["sqlite"], indirect=True)
def test_every_menu_page_asks_a_stranger_to_sign_in(app):
    client = app.test_client()
    pages = every_page(app)
    assert len(pages) >= 20, pages  # the portal's menus are all registered
    for _role, path in pages:
        response = client.get(path)
        assert response.status_code == 302, path
        assert response.headers["Location"].startswith("/login"), path


def test_every_menu_page_refuses_every_other_role(app):
    clients = {}
    for role in ROLES:
        make_person(role)
        clients[role] = app.test_client()
        sign_in(clients[role], f"{role}@people.example")
    for owner, path in every_page(app):
        if path == "/portal":
            continue  # every role's home
        for role in ROLES:
            status = clients[role].get(path).status_code
            if role == owner:
                assert status == 200, (role, path)
            elif path not in menu_paths(app, role):
                assert status == 403, (role, path, status)


def test_no_page_shows_another_organisations_rows(app):
    build_world(app)
    for role in ("partner", "advertiser"):
        client = app.test_client()
        sign_in(client, f"{role}@people.example")
        for path in menu_paths(app, role):
            response = client.get(path)
            assert response.status_code == 200, (role, path)
            page = response.get_data(as_text=True).lower()
            hidden = HIDDEN_FROM[role]
            assert hidden not in page, (role, path, page[max(page.find(hidden) - 200, 0) : page.find(hidden) + 80])


def test_the_rivals_rows_are_there_to_be_hidden(app):
    """The world above is not empty: admins and finance, who see the whole program, see both rivals."""
    build_world(app)
    expected = {
        ("admin", "/admin/partners"): RIVAL_PARTNER,
        ("admin", "/admin/offers"): RIVAL_VENDOR,
        ("finance", "/portal/balances"): RIVAL_PARTNER,
    }
    clients = {}
    for role in ("admin", "finance"):
        clients[role] = app.test_client()
        sign_in(clients[role], f"{role}@people.example")
    for (role, path), marker in expected.items():
        assert marker in clients[role].get(path).get_data(as_text=True).lower(), (role, path)
