"""The tax API and CLI: profiles scoped to their partner, the regimes listing, and quotes for finance."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from core.db import db
from payouts.tax.models import TaxProfile
from tests.factories import AdvertiserFactory, PartnerFactory, auth

NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)
RU_PERSON = {
    "kind": "individual",
    "country": "RU",
    "tax_resident": True,
    "tax_id": "5001 0073 2259",
    "regime_code": "ru_individual",
    "pays": "net",
}
US_FOREIGN = {
    "kind": "individual",
    "country": "DE",
    "tax_resident": False,
    "regime_code": "us_foreign_w8",
    "regime_inputs": {"services_abroad": False},
    "pays": "gross",
    "forms": [{"form": "W-8BEN", "signed_on": "2025-01-10", "expires_on": "2028-12-31"}],
}


@pytest.fixture
def frozen(time_machine):
    time_machine.move_to(NOW, tick=False)


@pytest.fixture
def finance(app):
    return auth("finance")


def put_profile(client, partner_id, body, headers):
    return client.put(f"/api/v1/partners/{partner_id}/tax-profile", json=body, headers=headers)


def get_profile(client, partner_id, headers):
    return client.get(f"/api/v1/partners/{partner_id}/tax-profile", headers=headers)


def post_quote(client, headers, **body):
    return client.post("/api/v1/tax/quotes", json=body, headers=headers)


# Profiles


def test_put_creates_then_replaces_the_profile_with_numbers_normalised(client, finance, frozen):
    partner = PartnerFactory(country="RU")
    created = put_profile(client, partner.id, RU_PERSON, finance)
    assert created.status_code == 201, created.json
    assert created.json["tax_id"] == "500100732259" and created.json["pays"] == "net"
    replaced = put_profile(
        client, partner.id, {**RU_PERSON, "pays": "gross", "iban": "DE89 3704 0044 0532 0130 00"}, auth("admin")
    )
    assert replaced.status_code == 200, replaced.json
    assert (replaced.json["pays"], replaced.json["iban"]) == ("gross", "DE89370400440532013000")
    stored = db.session.scalars(select(TaxProfile).where(TaxProfile.partner_id == partner.id)).all()
    assert len(stored) == 1 and stored[0].updated_by_key_id is not None


def test_only_admin_and_finance_write_profiles(client):
    partner = PartnerFactory()
    for headers in (auth("partner", partner_id=partner.id), {}):
        assert put_profile(client, partner.id, RU_PERSON, headers).status_code in (401, 403)


def test_put_for_a_missing_partner_is_404(client, finance):
    response = put_profile(client, 9999, RU_PERSON, finance)
    assert response.status_code == 404 and "partner 9999" in response.json["error"]


def test_put_refuses_bad_numbers_naming_each_field(client, finance):
    partner = PartnerFactory()
    body = {**RU_PERSON, "tax_id": "500100732258", "iban": "DE00 1234", "regime_code": "ru_gig"}
    response = put_profile(client, partner.id, body, finance)
    assert response.status_code == 422
    assert {d["field"] for d in response.json["details"]} == {"tax_id", "iban", "regime_code"}
    assert "checksum" in response.json["error"]


@pytest.mark.parametrize(
    "change, field",
    [
        ({"kind": "robot"}, "kind"),
        ({"regime_inputs": {"treaty_rate": 0.1}}, "regime_inputs"),  # a JSON number, not a decimal string
        ({"forms": [{"form": "W-4", "signed_on": "2025-01-01"}]}, "forms"),
        ({"colour": "blue"}, "colour"),
    ],
)
def test_put_refuses_malformed_bodies_with_422(client, finance, change, field):
    response = put_profile(client, PartnerFactory().id, {**RU_PERSON, **change}, finance)
    assert response.status_code == 422 and field in response.json["error"]


def test_put_refuses_missing_regime_inputs(client, finance):
    body = {**US_FOREIGN, "regime_inputs": {}}
    response = put_profile(client, PartnerFactory().id, body, finance)
    assert response.status_code == 422 and "needs 'services_abroad'" in response.json["error"]


def test_a_partner_reads_only_its_own_profile(client, finance, frozen):
    distributor = PartnerFactory(kind="distributor")
    reseller, stranger = PartnerFactory(kind="reseller", parent_id=distributor.id), PartnerFactory()
    assert put_profile(client, reseller.id, RU_PERSON, finance).status_code == 201
    own = get_profile(client, reseller.id, auth("partner", partner_id=reseller.id))
    assert own.status_code == 200 and own.json["tax_id"] == "500100732259"
    for other in (stranger, distributor):  # not even the reseller's distributor
        refused = get_profile(client, reseller.id, auth("partner", partner_id=other.id))
        assert refused.status_code == 404
        # Worded as for a partner without a profile, so the answer does not tell whether one exists.
        assert refused.json["error"] == f"no tax profile for partner {reseller.id}"
    assert get_profile(client, stranger.id, finance).json["error"] == f"no tax profile for partner {stranger.id}"
    assert get_profile(client, reseller.id, auth("admin")).status_code == 200
    advertiser = auth("advertiser", advertiser_id=AdvertiserFactory().id)
    assert get_profile(client, reseller.id, advertiser).status_code == 403


def test_the_profile_says_why_it_cannot_be_paid_today(client, finance, frozen):
    partner = PartnerFactory()
    body = {
        "kind": "company",
        "country": "FR",
        "tax_resident": True,
        "regime_code": "eu_reverse_charge",
        "vat_registered": True,
        "vat_number": "FR40303265045",
    }
    unpaid = put_profile(client, partner.id, body, finance)
    assert unpaid.status_code == 201 and unpaid.json["unpayable_reason"] == "no IBAN on file for a EUR bank transfer"
    paid = put_profile(
        client,
        partner.id,
        {**body, "iban": "FR1420041010050500013M02606", "account_holder": "Agence Dupont SARL"},
        finance,
    )
    assert paid.status_code == 200 and paid.json["unpayable_reason"] is None


def test_an_expired_w8ben_shows_on_the_profile(client, finance, time_machine):
    time_machine.move_to(datetime(2029, 1, 5, tzinfo=UTC), tick=False)
    response = put_profile(client, PartnerFactory().id, US_FOREIGN, finance)
    assert response.status_code == 201
    assert response.json["unpayable_reason"] == "the W-8BEN on file expired on 2028-12-31; collect a new one"


# Regimes


def test_regimes_list_versions_notes_and_inputs(client, finance):
    response = client.get("/api/v1/tax/regimes", headers=finance)
    assert response.status_code == 200
    regimes = {regime["code"]: regime for regime in response.json["items"]}
    individual = regimes["ru_individual"]
    assert [v["effective_from"] for v in individual["versions"]] == ["2025-01-01", "2026-01-01"]
    assert individual["notes"] and individual["currency"] == "RUB"
    ndfl = individual["versions"][1]["rules"]["withholding"]
    assert ndfl["bands"][0] == {"lower": "0", "upper": "2400000", "rate": "0.13"}
    assert regimes["us_foreign_w8"]["inputs"] == ["services_abroad", "treaty_rate"]
    assert regimes["ru_self_employed"]["versions"][0]["valid_until"] == "2028-12-31"
    assert client.get("/api/v1/tax/regimes", headers=auth("partner", partner_id=PartnerFactory().id)).status_code == 403


# Quotes: TAX-FACTS.md's worked examples through HTTP

AMOUNTS = ("gross", "withholding", "contributions", "vat", "net_to_partner", "company_cost")


def amounts(body) -> dict:
    return {name: body[name] for name in AMOUNTS}


def test_example_1_ru_individual_gross_100000(client, finance):
    response = post_quote(
        client, finance, regime="ru_individual", amount="100000", basis="gross", payout_date="2026-03-01"
    )
    assert response.status_code == 200, response.json
    assert amounts(response.json) == {
        "gross": "100000.00",
        "withholding": "13000.00",
        "contributions": "30000.00",
        "vat": "0.00",
        "net_to_partner": "87000.00",
        "company_cost": "130000.00",
    }
    assert response.json["effective_from"] == "2026-01-01" and response.json["blocked_reason"] is None
    assert "NDFL 13% on 100,000.00 within the 0–2,400,000 band" in response.json["applied"]


def test_example_2_net_100000_through_the_partners_profile(client, finance, frozen):
    partner = PartnerFactory(country="RU")
    put_profile(client, partner.id, RU_PERSON, finance)  # pays "net": the basis comes from the profile
    response = post_quote(client, auth("admin"), partner_id=partner.id, amount="100000", payout_date="2026-03-01")
    assert response.status_code == 200, response.json
    assert response.json["basis"] == "net" and response.json["regime"] == "ru_individual"
    assert amounts(response.json) == {
        "gross": "114943.00",
        "withholding": "14943.00",
        "contributions": "34482.90",
        "vat": "0.00",
        "net_to_partner": "100000.00",
        "company_cost": "149425.90",
    }


def test_example_4_ru_company_on_osno(client, finance):
    body = post_quote(
        client, finance, regime="ru_company_osno", amount="100000", basis="gross", payout_date="2026-03-01"
    ).json
    assert (body["vat"], body["recoverable_vat"], body["company_cost"]) == ("22000.00", "22000.00", "122000.00")


@pytest.mark.parametrize("day, paid", [("2025-06-02", "0"), ("2026-03-10", "1000")])
def test_example_6_us_backup_withholding_and_its_gross_up(client, finance, day, paid):
    gross = post_quote(
        client,
        finance,
        regime="us_backup_withholding",
        amount="1000",
        basis="gross",
        payout_date=day,
        paid_this_year=paid,
    ).json
    assert (gross["withholding"], gross["net_to_partner"]) == ("240.00", "760.00")
    net = post_quote(
        client,
        finance,
        regime="us_backup_withholding",
        amount="1000",
        basis="net",
        payout_date=day,
        paid_this_year=paid,
    ).json
    assert (net["gross"], net["net_to_partner"], net["currency"]) == ("1315.79", "1000.00", "USD")


def test_inputs_override_the_profile_and_payability_shows_as_a_warning(client, finance, frozen):
    partner = PartnerFactory()
    assert put_profile(client, partner.id, US_FOREIGN, finance).status_code == 201
    body = post_quote(
        client, finance, partner_id=partner.id, amount="1000", payout_date="2029-01-05", inputs={"treaty_rate": "0.15"}
    ).json
    assert body["withholding"] == "150.00" and body["basis"] == "gross"
    assert (
        f"partner {partner.id} cannot be paid on 2029-01-05: the W-8BEN on file expired on 2028-12-31; "
        "collect a new one" in body["warnings"]
    )


def test_a_quote_the_engine_cannot_price_answers_200_with_the_reason(client, finance):
    body = post_quote(
        client, finance, regime="us_foreign_w8", amount="1000", basis="gross", payout_date="2026-03-01"
    ).json
    assert body["blocked_reason"].startswith("the tax profile needs 'services_abroad'")
    assert body["gross"] == "0"


@pytest.mark.parametrize(
    "body, reason",
    [
        ({"regime": "ru_gig"}, "unknown tax regime 'ru_gig'"),
        ({"amount": "abc"}, "amount"),
        ({"amount": 100}, "amount"),  # a JSON number: amounts are decimal strings
        ({"amount": "-5"}, "amount"),
        ({"amount": "100.001"}, "more decimal places than RUB"),
        ({"paid_this_year": "x"}, "paid_this_year"),
        ({"basis": None}, "give basis"),
        ({"regime": None}, "give regime or partner_id"),
        ({"payout_date": "01.03.2026"}, "payout_date"),
        ({"inputs": {"vat_contry": "DE"}}, "unknown input"),
        ({"partner_id": 9999, "regime": None}, "partner 9999 does not exist"),
    ],
)
def test_bad_quote_requests_are_422_with_a_reason(client, finance, body, reason):
    request = {"regime": "ru_individual", "amount": "100", "basis": "gross", "payout_date": "2026-03-01"}
    response = post_quote(client, finance, **{**request, **body})
    assert response.status_code == 422, response.json
    assert reason in response.json["error"]


def test_a_partner_without_a_profile_cannot_be_quoted_by_id(client, finance):
    response = post_quote(client, finance, partner_id=PartnerFactory().id, amount="1", payout_date="2026-03-01")
    assert response.status_code == 422 and "has no tax profile" in response.json["error"]


def test_partners_and_advertisers_cannot_ask_for_quotes(client):
    headers = auth("partner", partner_id=PartnerFactory().id)
    response = post_quote(client, headers, regime="ru_individual", amount="1", basis="gross", payout_date="2026-03-01")
    assert response.status_code == 403


# CLI


def run(app, *args):
    return app.test_cli_runner().invoke(args=["payouts", "quote", *args])


def test_cli_quote_prints_a_table(app):
    result = run(app, "--regime", "ru_individual", "--amount", "100000", "--basis", "net", "--date", "2026-03-01")
    assert result.exit_code == 0, result.output
    assert "gross" in result.output and "114,943.00" in result.output and "149,425.90" in result.output


def test_cli_quote_as_json_with_inputs_and_a_partner(app, finance, frozen):
    client = app.test_client()
    partner = PartnerFactory()
    put_profile(client, partner.id, US_FOREIGN, finance)
    result = run(
        app,
        "--partner-id",
        str(partner.id),
        "--amount",
        "100",
        "--basis",
        "net",
        "--date",
        "2026-03-01",
        "--input",
        "services_abroad=false",
        "--json",
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["gross"] == "142.86"


def test_cli_quote_refuses_bad_input_and_exits_1_when_blocked(app):
    unknown = run(app, "--regime", "ru_gig", "--amount", "1", "--basis", "gross", "--date", "2026-03-01")
    assert unknown.exit_code == 2 and "unknown tax regime 'ru_gig'" in unknown.output
    bad_flag = run(
        app, "--regime", "us_foreign_w8", "--amount", "1", "--basis", "gross", "--input", "services_abroad=maybe"
    )
    assert bad_flag.exit_code == 2 and "true or false" in bad_flag.output
    blocked = run(app, "--regime", "us_foreign_w8", "--amount", "1", "--basis", "gross", "--date", "2026-03-01")
    assert blocked.exit_code == 1 and "BLOCKED: the tax profile needs 'services_abroad'" in blocked.output


@pytest.mark.parametrize("field, value", [("amount", "1e30"), ("amount", "1e999999"), ("paid_this_year", "1e999999")])
def test_a_quote_for_an_amount_past_any_payout_is_422_not_500(client, finance, field, value):
    # The engine's rounding overflowed Decimal's context on these: a 500 before the bound.
    body = {"regime": "ru_individual", "amount": "100", "basis": "gross", "payout_date": "2026-06-01", field: value}
    response = client.post("/api/v1/tax/quotes", json=body, headers=finance)
    assert response.status_code == 422, response.json
    assert [detail["field"] for detail in response.json["details"]] == [field]
