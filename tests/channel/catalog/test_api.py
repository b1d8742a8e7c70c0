"""The catalogue API: products, families and promotions; who may write and read; every refusal says why."""

from __future__ import annotations

import pytest
import time_machine
from sqlalchemy import func, select

from channel.catalog.models import Product, ProductFamily, Promotion
from core.db import db
from tests.channel.catalog.conftest import PRODUCT, add_family, add_product
from tests.factories import expect


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_vendor_creates_reads_and_changes_a_product(client, keys):
    add_family(client, keys["advertiser"])
    created = add_product(client, keys["advertiser"], sku="rt-100 ")
    assert created["sku"] == "RT-100"  # stripped and upper-cased, so sell-out rows in any case find it
    assert (created["list_price"], created["currency"], created["eligible_to"]) == ("199.90", "EUR", None)
    stored = db.session.scalar(select(Product))
    assert (stored.list_price_minor, stored.points_per_unit, stored.updated_by.startswith("advertiser key")) == (
        19990,
        10,
        True,
    )
    changed = expect(
        client.patch(
            "/api/v1/catalog/products/rt-100",
            json={"list_price": "249", "currency": "EUR", "eligible_to": "2026-12-31", "active": False},
            headers=keys["admin"],
        ),
        200,
    )
    assert (changed["list_price"], changed["eligible_to"], changed["active"]) == ("249.00", "2026-12-31", False)
    assert expect(client.get("/api/v1/catalog/products/RT-100", headers=keys["finance"]), 200)["active"] is False


def test_a_sku_is_created_once(client, keys):
    add_family(client, keys["admin"])
    add_product(client, keys["admin"])
    again = expect(
        client.post("/api/v1/catalog/products", json=PRODUCT | {"sku": "rt-100"}, headers=keys["admin"]), 409
    )
    assert "already exists" in again["error"]
    assert count(Product) == 1


def test_listing_filters_and_pages(client, keys):
    add_family(client, keys["admin"])
    add_family(client, keys["admin"], code="switches")
    add_product(client, keys["admin"], sku="RT-1", name="Small router")
    add_product(client, keys["admin"], sku="RT-2", name="Big router", eligible_from="2027-01-01")
    add_product(client, keys["admin"], sku="SW-1", name="Switch", family="switches", active=False)

    def skus(**query):
        body = expect(client.get("/api/v1/catalog/products", query_string=query, headers=keys["admin"]), 200)
        return [item["sku"] for item in body["items"]]

    assert skus() == ["RT-1", "RT-2", "SW-1"]
    assert skus(family="switches") == ["SW-1"]
    assert skus(active="false") == ["SW-1"]
    assert skus(eligible_on="2026-06-01") == ["RT-1", "SW-1"]
    assert skus(q="ROUTER") == ["RT-1", "RT-2"]
    assert skus(q="%") == []  # a wildcard is matched as itself
    assert skus(limit=1, offset=1) == ["RT-2"]


@pytest.mark.parametrize(
    ("change", "field", "reason"),
    [
        ({"sku": "RT 100"}, "sku", "may hold only letters A-Z, digits"),
        ({"sku": "RT/100"}, "sku", "may hold only letters A-Z, digits"),
        ({"name": "Router\x00"}, "name", "must not contain control characters (found U+0000)"),
        ({"sku": "RT-\x1b1"}, "sku", "must not contain control characters (found U+001B)"),
        ({"points_per_unit": -1}, "points_per_unit", "greater than or equal to 0"),
        ({"list_price": "-1.00"}, "(body)", "list_price: amount must not be negative"),
        ({"list_price": "1.999"}, "(body)", "EUR has 2 decimal places"),
        ({"currency": "XYZ"}, "currency", "'XYZ' is not an ISO 4217 currency code"),
        ({"currency": "eur"}, "currency", "String should match pattern"),
        ({"eligible_to": "2025-12-31"}, "(body)", "eligible_to must not be before eligible_from"),
        ({"eligible_from": 20260101}, "eligible_from", "must be an ISO 8601 date"),
        ({"colour": "red"}, "colour", "Extra inputs are not permitted"),
    ],
)
def test_a_bad_product_is_refused_with_the_field_and_reason(client, keys, change, field, reason):
    add_family(client, keys["admin"])
    body = expect(client.post("/api/v1/catalog/products", json=PRODUCT | change, headers=keys["admin"]), 422)
    assert any(d["field"] == field and reason in d["reason"] for d in body["details"]), body
    assert count(Product) == 0


def test_a_product_needs_a_family_that_exists(client, keys):
    body = expect(client.post("/api/v1/catalog/products", json=PRODUCT, headers=keys["admin"]), 422)
    assert body["error"].startswith("family 'routers' does not exist")
    assert count(Product) == 0


def test_a_patch_keeps_eligibility_in_order_and_price_with_its_currency(client, keys):
    add_family(client, keys["admin"])
    add_product(client, keys["admin"], eligible_to="2026-06-30")
    path = "/api/v1/catalog/products/RT-100"
    late_start = expect(client.patch(path, json={"eligible_from": "2026-07-01"}, headers=keys["admin"]), 422)
    assert "must not be before eligible_from" in late_start["error"]
    alone = expect(client.patch(path, json={"list_price": "10"}, headers=keys["admin"]), 422)
    assert "list_price and currency come together" in alone["error"]
    null = expect(client.patch(path, json={"name": None}, headers=keys["admin"]), 422)
    assert "name cannot be null" in null["error"]
    assert db.session.scalar(select(Product)).eligible_from.isoformat() == "2026-01-01"


def test_roles(client, keys):
    add_family(client, keys["admin"])
    add_product(client, keys["admin"], sku="ON-1")
    add_product(client, keys["admin"], sku="OFF-1", active=False)
    for role in ("finance", "partner"):
        refused = expect(client.post("/api/v1/catalog/products", json=PRODUCT, headers=keys[role]), 403)
        assert refused["error"] == f"a {role} key cannot do this; needs admin or advertiser"
        expect(client.patch("/api/v1/catalog/products/ON-1", json={"name": "x"}, headers=keys[role]), 403)
        expect(client.post("/api/v1/catalog/families", json={"code": "x", "name": "x"}, headers=keys[role]), 403)
    expect(client.get("/api/v1/catalog/products"), 401)
    # A partner reads the active catalogue only; a withdrawn product is not there at all.
    listed = expect(client.get("/api/v1/catalog/products", headers=keys["partner"]), 200)
    assert [item["sku"] for item in listed["items"]] == ["ON-1"]
    expect(client.get("/api/v1/catalog/products/OFF-1", headers=keys["partner"]), 404)
    assert expect(client.get("/api/v1/catalog/products/OFF-1", headers=keys["advertiser"]), 200)["active"] is False
    expect(client.get("/api/v1/catalog/products/NOPE", headers=keys["admin"]), 404)


def test_families_hold_a_safe_serial_format_and_a_price_band(client, keys):
    family = add_family(
        client,
        keys["advertiser"],
        serial_pattern=r"SN-\d{8}",
        price_below_percent="10",
        price_above_percent="5.5",
    )
    assert (family["price_below_percent"], family["price_above_percent"]) == ("10.00", "5.50")
    for pattern, reason in (
        ("(a+)+b", "a repeated group may not hold a quantifier"),
        ("SN-[0-9", "is not a regular expression"),
        (r"(\d)\1", "backreferences are not allowed"),
        ("x" * 201, "must be 1 to 200 characters"),
    ):
        body = expect(
            client.patch("/api/v1/catalog/families/routers", json={"serial_pattern": pattern}, headers=keys["admin"]),
            422,
        )
        assert reason in body["error"], body
    lonely = expect(
        client.patch("/api/v1/catalog/families/routers", json={"price_below_percent": "3"}, headers=keys["admin"]),
        422,
    )
    assert "come together" in lonely["error"]
    cleared = expect(
        client.patch(
            "/api/v1/catalog/families/ROUTERS",
            json={"serial_pattern": None, "price_below_percent": None, "price_above_percent": None},
            headers=keys["admin"],
        ),
        200,
    )
    assert (cleared["serial_pattern"], cleared["price_below_percent"]) == (None, None)
    expect(client.post("/api/v1/catalog/families", json={"code": "routers", "name": "R"}, headers=keys["admin"]), 409)
    expect(client.patch("/api/v1/catalog/families/none", json={"name": "x"}, headers=keys["admin"]), 404)
    listed = expect(client.get("/api/v1/catalog/families", headers=keys["partner"]), 200)
    assert [item["code"] for item in listed["items"]] == ["routers"]
    assert count(ProductFamily) == 1


PROMOTION = {"name": "Spring", "multiplier": "1.5", "starts_on": "2026-03-01", "ends_on": "2026-03-31"}


@time_machine.travel("2026-02-15 12:00Z", tick=False)
def test_promotions_are_created_listed_changed_and_removed(client, keys):
    add_family(client, keys["admin"])
    add_product(client, keys["admin"])
    by_sku = expect(
        client.post("/api/v1/catalog/promotions", json=PROMOTION | {"sku": "rt-100"}, headers=keys["advertiser"]), 201
    )
    assert (by_sku["multiplier"], by_sku["sku"], by_sku["family"]) == ("1.500", "RT-100", None)
    expect(
        client.post("/api/v1/catalog/promotions", json=PROMOTION | {"family": "routers"}, headers=keys["admin"]), 201
    )
    gold = PROMOTION | {"partner_tier": "gold", "multiplier": 2}
    expect(client.post("/api/v1/catalog/promotions", json=gold, headers=keys["admin"]), 201)
    silver = PROMOTION | {"partner_tier": "silver", "multiplier": "1.25"}
    expect(client.post("/api/v1/catalog/promotions", json=silver, headers=keys["admin"]), 201)

    def tiers(headers, **query):
        body = expect(client.get("/api/v1/catalog/promotions", query_string=query, headers=headers), 200)
        return [item["partner_tier"] for item in body["items"]]

    assert tiers(keys["finance"]) == [None, None, "gold", "silver"]
    assert tiers(keys["partner"]) == [None, None, "gold"]  # the partner's own tier and the untiered ones
    assert tiers(keys["admin"], sku="RT-100") == [None]
    assert tiers(keys["admin"], on="2026-04-01") == []

    path = f"/api/v1/catalog/promotions/{by_sku['id']}"
    assert expect(client.patch(path, json={"multiplier": "1.125"}, headers=keys["admin"]), 200)["multiplier"] == "1.125"
    expect(client.delete(path, headers=keys["admin"]), 204)
    expect(client.delete(path, headers=keys["admin"]), 404)
    assert count(Promotion) == 3


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"multiplier": "0"}, "greater than 0"),
        ({"multiplier": "1.0005"}, "no more than 3 decimal places"),
        ({"multiplier": "101"}, "less than or equal to 100"),
        ({"ends_on": "2026-02-28"}, "ends_on must not be before starts_on"),
        ({"family": "routers"}, "name exactly one of sku, family and partner_tier"),
        ({"sku": None}, "name exactly one of sku, family and partner_tier"),
        ({"partner_tier": "Gold!"}, "String should match pattern"),
    ],
)
def test_a_bad_promotion_is_refused(client, keys, change, reason):
    add_family(client, keys["admin"])
    body = PROMOTION | {"sku": "RT-100"} | change
    refused = expect(client.post("/api/v1/catalog/promotions", json=body, headers=keys["admin"]), 422)
    assert reason in refused["error"], refused
    assert count(Promotion) == 0


def test_a_promotion_for_an_unknown_sku_is_refused(client, keys):
    refused = expect(
        client.post("/api/v1/catalog/promotions", json=PROMOTION | {"sku": "X1"}, headers=keys["admin"]), 422
    )
    assert refused["error"] == "product 'X1' is not in the catalogue"


def test_a_started_promotion_keeps_what_points_were_earned_with(client, keys):
    add_family(client, keys["admin"])
    with time_machine.travel("2026-02-15 12:00Z", tick=False):
        created = expect(
            client.post("/api/v1/catalog/promotions", json=PROMOTION | {"family": "routers"}, headers=keys["admin"]),
            201,
        )
    path = f"/api/v1/catalog/promotions/{created['id']}"
    with time_machine.travel("2026-03-10 12:00Z", tick=False):
        locked = expect(client.patch(path, json={"multiplier": "3"}, headers=keys["admin"]), 409)
        assert "only its name and ends_on can change (not multiplier)" in locked["error"]
        past = expect(client.patch(path, json={"ends_on": "2026-03-09"}, headers=keys["admin"]), 409)
        assert "cannot move into the past" in past["error"]
        assert "end it instead" in expect(client.delete(path, headers=keys["admin"]), 409)["error"]
        ended = expect(client.patch(path, json={"ends_on": "2026-03-10"}, headers=keys["admin"]), 200)
        assert ended["ends_on"] == "2026-03-10"
    assert db.session.scalar(select(Promotion)).multiplier == 1.5
