"""/portal/deals: a partner registers a prospect company as the API does, and lists its own registrations."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from core.db import db, utcnow
from tests.core.people.conftest import cheap_hashes, compiled_catalogues, fresh_request_globals  # noqa: F401
from tests.core.people.helpers import form_token, make_person, sign_in
from tests.factories import OfferFactory, PartnerFactory, auth
from tracker.attribution.models import DealRegistration


@pytest.fixture
def program(app):
    offer = OfferFactory(name="Contoso Suite", deal_registration_days=90)
    paused = OfferFactory(name="Old Suite", status="paused")
    ours, theirs = PartnerFactory(name="Contoso Blog"), PartnerFactory(name="Northwind Deals")
    return {"offer": offer, "paused": paused, "ours": ours, "theirs": theirs}


def signed_in(client, partner, email="deals@contoso.example"):
    make_person("partner", email=email, partner_id=partner.id)
    sign_in(client, email)


def register(client, offer, **values):
    data = {"offer_id": str(offer.id), "company_domain": "", "tax_id": "", "company_name": "", **values}
    return client.post("/portal/deals", data={**data, "csrf_token": form_token(client, "/portal/deals")})


def registrations() -> list[tuple[int, str, str]]:
    rows = db.session.execute(
        select(DealRegistration.partner_id, DealRegistration.key_type, DealRegistration.key_value)
    )
    return sorted(tuple(row) for row in rows)


def test_a_partner_registers_a_company_and_sees_it_active(app, client, program):
    signed_in(client, program["ours"])
    page = client.get("/portal/deals").get_data(as_text=True)
    assert 'href="/portal/deals" aria-current="page"' in page and 'id="no-deals"' in page
    assert "Contoso Suite" in page and "Old Suite" not in page  # only active offers take registrations
    response = register(
        client, program["offer"], company_domain="https://www.Fabrikam.example/about", company_name="Fabrikam"
    )
    assert response.status_code == 303
    registration = db.session.scalar(select(DealRegistration))
    assert response.headers["Location"] == f"/portal/deals?registered={registration.id}"
    assert (registration.partner_id, registration.key_type, registration.key_value) == (
        program["ours"].id,
        "domain",
        "fabrikam.example",
    )
    assert registration.expires_at - registration.registered_at == timedelta(days=90)
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    row = page.split(f'id="deal-{registration.id}"')[1].split("</tr>")[0]
    assert "fabrikam.example" in row and "Fabrikam" in row and "active until" in row
    assert 'id="deal-registered"' in page


def test_a_company_held_by_another_partner_is_refused_and_theirs_never_shown(app, client, program):
    api = app.test_client()
    held = api.post(
        "/api/v1/deal-registrations",
        json={"offer_id": program["offer"].id, "tax_id": "DE136695976", "company_name": "Secret Prospect AG"},
        headers=auth("partner", partner_id=program["theirs"].id),
    )
    assert held.status_code == 201
    signed_in(client, program["ours"])
    response = register(client, program["offer"], tax_id="de 136 695 976")
    page = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "is already registered by another partner for this offer until" in page
    assert "Secret Prospect AG" not in page and 'id="no-deals"' in page
    assert registrations() == [(program["theirs"].id, "tax_id", "EU:DE136695976")]


def test_a_lapsed_registration_frees_the_company(app, client, program):
    db.session.add(
        DealRegistration(
            offer_id=program["offer"].id,
            partner_id=program["theirs"].id,
            key_type="domain",
            key_value="fabrikam.example",
            company_name="Their old prospect",
            registered_at=utcnow() - timedelta(days=100),
            expires_at=utcnow() - timedelta(days=10),
        )
    )
    db.session.commit()
    signed_in(client, program["ours"])
    assert register(client, program["offer"], company_domain="fabrikam.example").status_code == 303
    assert registrations() == [(program["ours"].id, "domain", "fabrikam.example")]
    page = client.get("/portal/deals").get_data(as_text=True)
    assert "Their old prospect" not in page and "active until" in page


@pytest.mark.parametrize(
    ("values", "status", "message"),
    [
        ({}, 422, "register a company by exactly one of company_domain or tax_id"),
        ({"company_domain": "fabrikam.example", "tax_id": "DE136695976"}, 422, "exactly one of"),
        ({"company_domain": "x" * 254}, 400, "Field cannot be longer than 253 characters."),
    ],
)
def test_bad_input_is_refused_with_a_clear_message_and_nothing_written(app, client, program, values, status, message):
    signed_in(client, program["ours"])
    response = register(client, program["offer"], **values)
    assert response.status_code == status
    assert message in response.get_data(as_text=True)
    assert registrations() == []


def test_a_paused_or_unknown_offer_is_refused(app, client, program):
    signed_in(client, program["ours"])
    for offer_id in (program["paused"].id, 999999):
        response = register(client, program["offer"], offer_id=str(offer_id), company_domain="fabrikam.example")
        assert response.status_code == 400 and 'id="offer_id-error"' in response.get_data(as_text=True)
    assert registrations() == []


@pytest.mark.parametrize("app", ["sqlite"], indirect=True)
def test_a_post_without_the_csrf_token_is_refused(app, client, program):
    signed_in(client, program["ours"])
    response = client.post(
        "/portal/deals", data={"offer_id": program["offer"].id, "company_domain": "fabrikam.example"}
    )
    assert response.status_code == 400 and registrations() == []


@pytest.mark.parametrize("role", ["admin", "advertiser", "finance"])
@pytest.mark.parametrize("app", ["sqlite"], indirect=True)
def test_other_roles_get_403(app, client, program, role):
    person = make_person(role)
    sign_in(client, person.email)
    assert client.get("/portal/deals").status_code == 403
    data = {
        "offer_id": program["offer"].id,
        "company_domain": "fabrikam.example",
        "csrf_token": form_token(client, "/portal"),
    }
    assert client.post("/portal/deals", data=data).status_code == 403
    assert db.session.scalar(select(func.count()).select_from(DealRegistration)) == 0


@pytest.mark.parametrize("app", ["sqlite"], indirect=True)
def test_anyone_not_signed_in_is_sent_to_sign_in(app, client):
    response = client.get("/portal/deals")
    assert response.status_code == 302 and response.headers["Location"] == "/login?next=%2Fportal%2Fdeals"
