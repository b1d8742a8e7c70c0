"""Limits at the API's edge: body size, key before body, JSON nesting, and integers that fit their columns.

Each limit is hit through the test client on SQLite and on PostgreSQL; none may end in a 500.
"""

from __future__ import annotations

import io
import json

import pytest

from core.api.jsonio import MAX_JSON_DEPTH, nested_deeper_than
from core.api.limits import INT_COLUMN_MAX, digits_up_to
from core.settings import load_settings
from tests.factories import OfferFactory, PartnerFactory, auth

ONE_MIB = 1024 * 1024


def refusal(response, status: int) -> str:
    """The API's error shape, at the expected status; answers the reason."""
    assert response.status_code == status, (response.status_code, response.get_data(as_text=True)[:300])
    body = response.get_json()
    assert body["status"] == status and body["error"]
    return body["error"]


class Tripwire(io.BytesIO):
    """A request body that records whether anything read it."""

    def __init__(self, data: bytes):
        super().__init__(data)
        self.touched = False

    def read(self, *args):
        self.touched = True
        return super().read(*args)

    def readinto(self, *args):
        self.touched = True
        return super().readinto(*args)

    def readline(self, *args):
        self.touched = True
        return super().readline(*args)


def post_stream(client, path: str, body: bytes, headers: dict[str, str] | None = None):
    stream = Tripwire(body)
    response = client.post(
        path,
        input_stream=stream,
        headers={"Content-Type": "application/json", "Content-Length": str(len(body)), **(headers or {})},
    )
    return response, stream


# Body size


def test_body_limit_defaults_to_one_mebibyte_and_is_a_setting(app, tmp_path):
    assert app.config["MAX_CONTENT_LENGTH"] == ONE_MIB
    environ = {"HANDOFF_INSTANCE_PATH": str(tmp_path)}
    assert load_settings(environ).max_body_bytes == ONE_MIB
    assert load_settings({**environ, "MAX_BODY_BYTES": "4096"}).max_body_bytes == 4096


def test_a_body_over_the_limit_is_answered_413_with_the_reason(client):
    body = json.dumps({"name": "x" * ONE_MIB}).encode()
    response, _ = post_stream(client, "/api/v1/advertisers", body, auth("admin"))
    assert "larger than the limit of 1048576 bytes" in refusal(response, 413)


def test_a_body_at_the_limit_is_read(client):
    # Padded with spaces to exactly the limit: parsed and validated, so the answer is about the fields.
    body = json.dumps({"name": "Vendor", "contact_email": "not-an-address"}).encode()
    body += b" " * (ONE_MIB - len(body))
    response, stream = post_stream(client, "/api/v1/advertisers", body, auth("admin"))
    assert stream.touched
    assert "contact_email" in refusal(response, 422)


# The key before the body


@pytest.mark.parametrize(
    "headers, reason",
    [
        ({}, "Authorization: Bearer"),
        ({"Authorization": "Bearer not-a-key"}, "unknown or revoked"),
        ({"Authorization": "Basic dXNlcjpwYXNz"}, "Authorization: Bearer"),
    ],
)
def test_without_a_valid_key_the_body_is_never_read(client, headers, reason):
    response, stream = post_stream(client, "/api/v1/offers", b'{"name": "x"}', headers)
    assert reason in refusal(response, 401)
    assert not stream.touched


def test_a_key_of_another_role_is_refused_before_the_body_is_read(client):
    headers = auth("partner", partner_id=PartnerFactory().id)
    response, stream = post_stream(client, "/api/v1/advertisers", b'{"name": "x"}', headers)
    assert "needs admin" in refusal(response, 403)
    assert not stream.touched


def test_an_oversized_body_without_a_key_is_401_not_413(client):
    response, stream = post_stream(client, "/api/v1/offers", b"[" * (ONE_MIB + 1))
    refusal(response, 401)
    assert not stream.touched


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH"])
def test_a_bodyless_write_without_a_key_is_401(client, method):
    path = {"POST": "/api/v1/links", "PUT": "/api/v1/postback", "PATCH": "/api/v1/offers/1"}[method]
    assert "Authorization: Bearer" in refusal(client.open(path, method=method), 401)


def test_a_bodyless_write_with_a_key_still_needs_a_json_object(client):
    assert "JSON object" in refusal(client.post("/api/v1/links", headers=auth("admin")), 400)


def test_public_api_routes_need_no_key(client):
    assert client.get("/api/v1/openapi.json").status_code == 200
    assert client.get("/api/v1/docs/redoc/").status_code == 200
    options = client.options("/api/v1/offers")  # Flask answers OPTIONS itself; no view runs
    assert options.status_code == 200 and "POST" in options.headers["Allow"]


# JSON nesting


def nested(depth: int) -> str:
    """An object whose field ``a`` is nested so that the whole document is ``depth`` levels deep."""
    return '{"a": ' + "[" * (depth - 1) + "]" * (depth - 1) + "}"


def test_json_nested_to_the_bound_is_parsed(client):
    response = client.post(
        "/api/v1/advertisers", data=nested(MAX_JSON_DEPTH), content_type="application/json", headers=auth("admin")
    )
    assert "a: Extra inputs are not permitted" in refusal(response, 422)


@pytest.mark.parametrize("depth", [MAX_JSON_DEPTH + 1, 5_000, 200_000])
def test_json_nested_past_the_bound_is_400_not_a_recursion_error(client, depth):
    response = client.post(
        "/api/v1/advertisers", data=nested(depth), content_type="application/json", headers=auth("admin")
    )
    assert f"nested deeper than {MAX_JSON_DEPTH} levels" in refusal(response, 400)


def test_nesting_depth_counts_objects_and_arrays():
    assert not nested_deeper_than(json.loads(nested(MAX_JSON_DEPTH)), MAX_JSON_DEPTH)
    assert nested_deeper_than(json.loads(nested(MAX_JSON_DEPTH + 1)), MAX_JSON_DEPTH)
    five_levels = [{"a": [{"b": [1, "x"]}]}, 2, {}]
    assert (nested_deeper_than(five_levels, 5), nested_deeper_than(five_levels, 4)) == (False, True)
    assert nested_deeper_than("text", 0) is False


# Integers in paths


@pytest.mark.parametrize(
    "method, path",
    [
        ("PATCH", "/api/v1/offers/{id}"),
        ("GET", "/api/v1/conversions/{id}"),
        ("POST", "/api/v1/conversions/{id}/approve"),
        ("GET", "/api/v1/offers/{id}/commission-plan"),  # a path PUT shares: 404, not 405
        ("GET", "/api/v1/partners/{id}/tax-profile"),
        ("GET", "/api/v1/payout-batches/{id}"),
        ("GET", "/api/v1/payout-batches/1/statements/{id}.html"),
    ],
)
@pytest.mark.parametrize("number", [str(INT_COLUMN_MAX + 1), "99999999999", "9" * 5000])
def test_an_id_past_the_integer_range_in_a_path_is_404(client, method, path, number):
    response = client.open(path.format(id=number), method=method, json={}, headers=auth("admin"))
    refusal(response, 404)


def test_the_largest_integer_id_still_reaches_the_view(client):
    response = client.patch(f"/api/v1/offers/{INT_COLUMN_MAX}", json={}, headers=auth("admin"))
    assert refusal(response, 404) == f"offer {INT_COLUMN_MAX} not found"


def test_an_id_in_range_still_works(client):
    offer = OfferFactory()
    response = client.patch(f"/api/v1/offers/{offer.id}", json={"name": "Renamed"}, headers=auth("admin"))
    assert response.status_code == 200 and response.json["name"] == "Renamed"


def test_the_id_pattern_accepts_exactly_zero_to_the_limit():
    import re

    pattern = re.compile(digits_up_to(INT_COLUMN_MAX))
    edges = [0, 7, 10**9 - 1, 10**9, 1_999_999_999, 2_099_999_999, 2_147_399_999, INT_COLUMN_MAX - 1]
    assert all(pattern.fullmatch(str(n)) for n in [*edges, INT_COLUMN_MAX])
    assert pattern.fullmatch("007")
    too_big = [INT_COLUMN_MAX + 1, 2_147_483_650, 2_147_500_000, 2_200_000_000, 3 * 10**9, 10**10]
    assert not any(pattern.fullmatch(str(n)) for n in too_big)


# Integers in queries and bodies


QUERIES = [
    ("/api/v1/offers", "offset"),
    ("/api/v1/links", "offset"),
    ("/api/v1/coupons", "offset"),
    ("/api/v1/conversions", "offset"),
    ("/api/v1/conversions", "offer_id"),
    ("/api/v1/postback", "partner_id"),
    ("/api/v1/postback/deliveries", "partner_id"),
    ("/api/v1/commissions", "offset"),
    ("/api/v1/commissions", "offer_id"),
    ("/api/v1/balances", "partner_id"),
]


@pytest.mark.parametrize("path, name", QUERIES)
@pytest.mark.parametrize("number", [INT_COLUMN_MAX + 1, 2**63])
def test_a_query_integer_past_the_column_range_is_422_naming_it(client, path, name, number):
    response = client.get(path, query_string={name: number}, headers=auth("admin"))
    assert name in refusal(response, 422)


@pytest.mark.parametrize("path", ["/api/v1/offers", "/api/v1/conversions", "/api/v1/commissions"])
def test_the_largest_offset_is_an_empty_page(client, path):
    response = client.get(path, query_string={"offset": INT_COLUMN_MAX}, headers=auth("admin"))
    assert response.status_code == 200 and response.json["items"] == []


def test_an_id_past_the_column_range_in_a_body_is_422_naming_it(client):
    offer, partner = OfferFactory(), PartnerFactory()
    big = INT_COLUMN_MAX + 1
    bodies = [
        ("/api/v1/links", {"offer_id": big, "partner_id": partner.id}, "offer_id"),
        ("/api/v1/links", {"offer_id": offer.id, "partner_id": 2**64}, "partner_id"),
        ("/api/v1/coupons", {"code": "SPRING", "offer_id": offer.id, "partner_id": big}, "partner_id"),
        ("/api/v1/deal-registrations", {"offer_id": big, "company_domain": "acme.example"}, "offer_id"),
        ("/api/v1/adjustments", {"partner_id": big, "amount": "1", "currency": "EUR", "reason": "x"}, "partner_id"),
    ]
    for path, body, name in bodies:
        assert name in refusal(client.post(path, json=body, headers=auth("admin")), 422), path
