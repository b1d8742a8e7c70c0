"""A vendor, a partner and a key per role, and helpers that create families and products over the API."""

from __future__ import annotations

import pytest

from tests.factories import AdvertiserFactory, PartnerFactory, auth, expect


@pytest.fixture
def keys(app):
    vendor, partner = AdvertiserFactory(), PartnerFactory(tier="gold")
    return {
        "admin": auth("admin"),
        "finance": auth("finance"),
        "advertiser": auth("advertiser", advertiser_id=vendor.id),
        "partner": auth("partner", partner_id=partner.id),
    }


def add_family(client, headers, code="routers", **fields):
    body = {"code": code, "name": code.title()} | fields
    return expect(client.post("/api/v1/catalog/families", json=body, headers=headers), 201)


PRODUCT = {
    "sku": "RT-100",
    "name": "Router 100",
    "family": "routers",
    "list_price": "199.90",
    "currency": "EUR",
    "points_per_unit": 10,
    "eligible_from": "2026-01-01",
}


def add_product(client, headers, **fields):
    return expect(client.post("/api/v1/catalog/products", json=PRODUCT | fields, headers=headers), 201)
