"""Every refusal under /api/ has one shape, {error, status, details?}, and the description says so per operation."""

from __future__ import annotations

import pytest

from tests.factories import auth

ERROR_STATUSES = {"400", "401", "403", "404", "405", "409", "413", "422", "429"}
ERROR_SHAPE = {"error", "status", "details"}


def refusal(response, status: int) -> dict:
    assert response.status_code == status, (response.status_code, response.get_data(as_text=True))
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert set(body) <= ERROR_SHAPE and isinstance(body["error"], str) and body["status"] == status
    return body


def test_every_operation_documents_each_error_with_the_error_schema(client):
    description = client.get("/api/v1/openapi.json").json
    error_schema = description["components"]["schemas"]
    operations = [
        (f"{method.upper()} {path}", operation)
        for path, methods in description["paths"].items()
        for method, operation in methods.items()
    ]
    assert len(operations) > 40
    for name, operation in operations:
        responses = operation["responses"]
        assert set(responses) >= ERROR_STATUSES, name
        for status, response in responses.items():
            if not status.startswith("4"):
                continue
            reference = response["content"]["application/json"]["schema"]["$ref"]
            schema = error_schema[reference.rsplit("/", 1)[1]]
            assert schema["title"] == "ErrorOut", (name, status)
            assert set(schema["required"]) == {"error", "status"}, (name, status)


def test_a_wrong_method_is_405_in_the_error_shape_and_keeps_allow(client):
    response = client.delete("/api/v1/advertisers", headers=auth("admin"))
    refusal(response, 405)
    assert set(response.headers["Allow"].replace(" ", "").split(",")) >= {"GET", "POST"}


def test_a_wrong_method_is_405_even_without_a_key_or_a_body(client):
    response = client.put("/api/v1/stats")
    refusal(response, 405)
    assert "GET" in response.headers["Allow"]


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_an_unknown_api_path_is_404_in_the_error_shape(client, method):
    refusal(client.open("/api/v1/no-such-thing", method=method), 404)


@pytest.mark.parametrize(
    "path", ["/api/v1/offers/1/pixel/rotate-secret", "/api/v1/payout-batches/1/approve", "/api/v1/advertisers"]
)
def test_a_post_without_a_key_or_a_body_is_401(client, path):
    assert "Authorization: Bearer" in refusal(client.post(path), 401)["error"]


def test_a_post_that_takes_no_body_needs_none(client):
    # An admin reaches the view, which finds no such offer; no body was asked for, so none is missing.
    assert (
        "offer" in refusal(client.post("/api/v1/offers/999/pixel/rotate-secret", headers=auth("admin")), 404)["error"]
    )


def test_a_post_that_takes_a_body_refuses_one_that_is_not_a_json_object(client):
    response = client.post("/api/v1/advertisers", data="name=x", headers=auth("admin"))
    assert "JSON object" in refusal(response, 400)["error"]


def test_a_validation_error_names_the_fields_in_details(client):
    body = refusal(client.post("/api/v1/advertisers", json={"name": 7}, headers=auth("admin")), 422)
    assert {detail["field"] for detail in body["details"]} >= {"name"}


def test_a_date_given_as_a_number_is_refused_not_read_as_1970(client):
    response = client.get("/api/v1/stats", query_string={"to": "0"}, headers=auth("admin"))
    assert [detail["field"] for detail in refusal(response, 422)["details"]] == ["to"]
    ok = client.get("/api/v1/stats", query_string={"to": "2026-01-31"}, headers=auth("admin"))
    assert ok.status_code == 200 and ok.json["to"] == "2026-01-31"


@pytest.mark.parametrize("day", ["0001-01-05", "9999-12-31"])
def test_a_date_past_the_years_code_can_count_from_is_422_not_500(client, day):
    # A range's end plus a day, or its start less 30, overflowed Python's dates: a 500 before.
    response = client.get("/api/v1/stats", query_string={"to": day}, headers=auth("admin"))
    assert "years 1900 to 2999" in refusal(response, 422)["details"][0]["reason"]
