"""Who sees what: no overview or demo page in production; advertisers see only their partners, without contacts."""

from __future__ import annotations

import pytest

from app import create_app
from core.db import db, utcnow
from tests.conftest import make_settings
from tests.factories import AdvertiserFactory, LinkFactory, OfferFactory, PartnerFactory, auth, expect
from tracker.attribution.models import Conversion


@pytest.mark.parametrize(("production", "status"), [(True, 404), (False, 200)])
def test_overview_and_demo_landing_are_not_served_in_production(tmp_path, production, status):
    """In production the front door leads to the portal (and from there to sign-in) instead of the overview."""
    app = create_app(make_settings(f"sqlite:///{tmp_path / 'handoff.db'}", tmp_path, production=production))
    with app.app_context():
        db.create_all()
        client = app.test_client()
        front = client.get("/")
        if production:
            assert front.status_code == 302 and front.headers["Location"] == "/portal"
        else:
            assert front.status_code == 200 and "Handoff" in front.get_data(as_text=True)
        assert client.get("/demo/landing").status_code == status
        assert client.get("/healthz").status_code == 200
        db.session.remove()
        db.engine.dispose()


def test_advertiser_key_lists_only_partners_on_its_offers_without_contact_emails(app):
    vendor, rival = AdvertiserFactory(), AdvertiserFactory()
    offer, rival_offer = OfferFactory(advertiser=vendor), OfferFactory(advertiser=rival)
    linked, converted, elsewhere, idle = (PartnerFactory() for _ in range(4))
    LinkFactory(partner=linked, offer=offer)
    LinkFactory(partner=elsewhere, offer=rival_offer)
    # A conversion attributed without a link on the offer (a coupon, a registered deal) makes a partner visible too.
    db.session.add(
        Conversion(
            offer_id=offer.id,
            event="lead",
            order_id="C-1",
            occurred_at=utcnow(),
            source="api",
            status="pending",
            partner_id=converted.id,
        )
    )
    db.session.commit()
    client = app.test_client()

    listed = expect(client.get("/api/v1/partners", headers=auth("advertiser", advertiser_id=vendor.id)), 200)["items"]
    assert sorted(p["id"] for p in listed) == sorted([linked.id, converted.id])
    assert all(p["contact_email"] is None for p in listed)
    assert all(p["name"] and p["kind"] for p in listed)

    rival_view = expect(client.get("/api/v1/partners", headers=auth("advertiser", advertiser_id=rival.id)), 200)
    assert [p["id"] for p in rival_view["items"]] == [elsewhere.id]

    everyone = expect(client.get("/api/v1/partners", headers=auth("admin")), 200)["items"]
    assert {p["id"]: p["contact_email"] for p in everyone} == {
        partner.id: partner.contact_email for partner in (linked, converted, elsewhere, idle)
    }


def test_openapi_says_contact_email_may_be_null(app):
    spec = app.test_client().get("/api/v1/openapi.json").json
    schemas = spec["components"]["schemas"]
    partner_out = next(schema for name, schema in schemas.items() if name.startswith("PartnerOut"))
    field = partner_out["properties"]["contact_email"]
    assert {"type": "null"} in field["anyOf"] and "advertiser" in field["description"]
