"""Operators edit the tax presets through the API: next year's rate without a release, refused if malformed."""

from __future__ import annotations

import copy
import json

import pytest

from payouts.tax.engine.presets import PRESETS_PATH
from tests.factories import PartnerFactory, auth

OSNO = next(r for r in json.loads(PRESETS_PATH.read_text())["regimes"] if r["code"] == "ru_company_osno")


def quote_vat(client, headers, day: str) -> str:
    body = {"regime": "ru_company_osno", "amount": "100000", "basis": "gross", "payout_date": day}
    response = client.post("/api/v1/tax/quotes", json=body, headers=headers)
    assert response.status_code == 200, response.json
    return response.json["vat"]


def test_an_added_version_takes_effect_on_its_date_and_dropping_the_edit_restores_the_preset(app):
    client, finance = app.test_client(), auth("finance")
    edited = copy.deepcopy(OSNO)
    edited["versions"].append(
        {"effective_from": "2027-01-01", "vat": {"rate": "0.25", "rounding": "0.01", "recoverable": True}}
    )
    saved = client.put("/api/v1/tax/regimes/ru_company_osno", json=edited, headers=finance)
    assert saved.status_code == 200, saved.json
    assert quote_vat(client, finance, "2026-12-31") == "22000.00"
    assert quote_vat(client, finance, "2027-01-01") == "25000.00"
    listed = client.get("/api/v1/tax/regimes", headers=finance).json["items"]
    osno = next(r for r in listed if r["code"] == "ru_company_osno")
    assert [v["effective_from"] for v in osno["versions"]][-1] == "2027-01-01"
    assert client.delete("/api/v1/tax/regimes/ru_company_osno/edit", headers=finance).status_code == 204
    assert quote_vat(client, finance, "2027-01-01") == "22000.00"


@pytest.mark.parametrize(
    "change, reason",
    [
        (lambda r: r["versions"][1]["vat"].update(rate=0.25), "decimal string"),
        (lambda r: r["versions"][1]["vat"].update(rate="lots"), "rate"),
        (lambda r: r.update(currency="RUR"), "currency"),
        (lambda r: r.update(colour="red"), "colour"),
    ],
)
def test_a_malformed_edit_is_refused_with_the_field_and_changes_nothing(app, change, reason):
    client, finance = app.test_client(), auth("finance")
    edited = copy.deepcopy(OSNO)
    change(edited)
    response = client.put("/api/v1/tax/regimes/ru_company_osno", json=edited, headers=finance)
    assert response.status_code == 422 and reason in response.json["error"]
    assert quote_vat(client, finance, "2026-06-01") == "22000.00"


def test_only_admin_and_finance_edit_regimes(app):
    partner = PartnerFactory()
    response = app.test_client().put(
        "/api/v1/tax/regimes/ru_company_osno", json=OSNO, headers=auth("partner", partner_id=partner.id)
    )
    assert response.status_code == 403


@pytest.mark.parametrize("code", ["a%00b", "x" * 65, "a%01b", "%C3%A9t%C3%A9"])
def test_a_regime_code_that_could_not_be_stored_is_422_and_names_no_edit(app, code):
    # NUL and a key past VARCHAR(64) were a 500 on PostgreSQL; the others would have been stored as they came.
    client, finance = app.test_client(), auth("finance")
    saved = client.put(f"/api/v1/tax/regimes/{code}", json=copy.deepcopy(OSNO), headers=finance)
    assert saved.status_code == 422, saved.json
    assert [detail["field"] for detail in saved.json["details"]] == ["code"]
    assert client.delete(f"/api/v1/tax/regimes/{code}/edit", headers=finance).status_code == 404
