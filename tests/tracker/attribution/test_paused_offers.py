"""A paused offer takes no new coupons or deal registrations, as it takes no new links; what it has stays."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from core.db import db
from tests.factories import AdvertiserFactory, OfferFactory, PartnerFactory, auth
from tracker.attribution.models import Coupon


@pytest.fixture
def paused(app):
    return OfferFactory(slug="resting", status="paused")


def test_a_coupon_needs_an_active_offer(app, paused):
    client = app.test_client()
    partner = PartnerFactory()
    body = {"code": "REST10", "partner_id": partner.id, "offer_id": paused.id}
    refused = client.post("/api/v1/coupons", headers=auth("advertiser", advertiser_id=paused.advertiser_id), json=body)
    assert refused.status_code == 422
    assert refused.json["error"] == "offer 'resting' is paused; coupons need an active offer"
    # Another advertiser learns nothing about the offer, paused or not.
    other = auth("advertiser", advertiser_id=AdvertiserFactory().id)
    stranger = client.post("/api/v1/coupons", headers=other, json=body)
    assert stranger.status_code == 403
    assert stranger.json["error"] == "an advertiser key creates coupons only for its own offers"
    assert db.session.scalar(select(func.count()).select_from(Coupon)) == 0

    client.patch(f"/api/v1/offers/{paused.id}", headers=auth("admin"), json={"status": "active"})
    assert client.post("/api/v1/coupons", headers=auth("admin"), json=body).status_code == 201


def test_a_deal_registration_needs_an_active_offer(app, paused):
    partner = PartnerFactory()
    refused = app.test_client().post(
        "/api/v1/deal-registrations",
        headers=auth("partner", partner_id=partner.id),
        json={"offer_id": paused.id, "company_domain": "tailspin-toys.example"},
    )
    assert refused.status_code == 422
    assert refused.json["error"] == "offer 'resting' is paused; deal registrations need an active offer"
