"""/apply and /admin/applications: checked fields, nothing stored on a refusal, one decision per application."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from core.db import db
from core.people.accounts import find_person
from core.people.models import PasswordReset, Person
from tests.core.people.conftest import cheap_hashes, compiled_catalogues, fresh_request_globals  # noqa: F401
from tests.core.people.helpers import form_token, make_person, sign_in
from tracker.applications import decisions
from tracker.applications.models import PartnerApplication
from tracker.program.models import Partner

# A real German VAT number (check digit right) and a real 10-digit Russian INN.
GOOD = {
    "company": "Fabrikam Reviews GmbH",
    "contact_name": "Anna Weber",
    "email": "Anna@Fabrikam.example",
    "kind": "reseller",
    "country": "DE",
    "tax_id": "DE 136,695 976",
    "website": "https://fabrikam.example/reviews",
    "promotion": "Reviews of office software.\nA newsletter with 12,000 readers.",
}
RESET_LINK = re.compile(r'id="reset-link"[^>]*value="([^"]+)"')


def send(client, **changes):
    data = {**GOOD, **changes, "csrf_token": form_token(client, "/apply")}
    return client.post("/apply", data=data)


def stored() -> int:
    return db.session.scalar(select(func.count()).select_from(PartnerApplication))


def pending(**changes) -> PartnerApplication:
    values = {**GOOD, "email": "anna@fabrikam.example", "tax_id": "DE136695976", "status": "pending", **changes}
    application = PartnerApplication(**values)
    db.session.add(application)
    db.session.commit()
    return application


def admin_client(app):
    client = app.test_client()
    make_person("admin", email="ops@handoff.example")
    sign_in(client, "ops@handoff.example")
    return client


def test_an_application_is_stored_and_thanked(app, client):
    response = send(client)
    assert response.status_code == 302 and response.headers["Location"] == "/apply/thanks"
    assert "Thank you for applying" in client.get("/apply/thanks").get_data(as_text=True)
    application = db.session.scalars(select(PartnerApplication)).one()
    assert (application.tax_id, application.status, application.kind) == ("136695976", "pending", "reseller")
    assert application.promotion.count("\n") == 1


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"tax_id": "DE136695977"}, "tax_id", "Not a valid tax id for this country"),
        ({"country": "RU", "tax_id": "7707083894"}, "tax_id", "checksum"),
        ({"company": "Fabrikam\x00 GmbH"}, "company", "control characters"),
        ({"contact_name": "Anna\u2028Weber"}, "contact_name", "control characters"),
        ({"promotion": "Reviews\x1b[31m"}, "promotion", "control characters"),
        ({"company": "F" * 201}, "company", "at most 200 characters"),
        ({"promotion": "p" * 2001}, "promotion", "at most 2000 characters"),
        ({"website": "javascript:alert(1)"}, "website", "https://"),
        ({"email": "not an address"}, "email", "not an email address"),
        ({"kind": "owner"}, "kind", "Not a valid choice"),
        ({"country": "XX"}, "country", "Not a valid choice"),
        ({"contact_name": ""}, "contact_name", "Fill in this field"),
    ],
)
@pytest.mark.parametrize("app", ["sqlite"], indirect=True)
def test_a_bad_field_is_refused_beside_the_field_and_nothing_is_stored(app, client, changes, field, message):
    response = send(client, **changes)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    error = re.search(rf'<p class="error" id="{field}-error">([^<]*)</p>', page)
    assert error and message in error.group(1), page
    assert stored() == 0


@pytest.mark.parametrize("app", ["sqlite"], indirect=True)
def test_a_good_russian_inn_and_an_unchecked_country_are_accepted(app, client):
    assert send(client, country="RU", tax_id="7707083893").status_code == 302
    assert send(client, country="AQ", tax_id="ANT-12.345").status_code == 302
    assert sorted(db.session.scalars(select(PartnerApplication.tax_id))) == ["7707083893", "ANT12345"]


@pytest.mark.parametrize("app", ["sqlite"], indirect=True)
def test_the_form_needs_its_token_and_applications_are_rate_limited(app, client):
    assert client.post("/apply", data=GOOD).status_code == 400
    assert stored() == 0
    statuses = [send(client, company=f"Company {n}").status_code for n in range(6)]
    assert statuses == [302] * 5 + [429]
    assert stored() == 5


def test_approval_creates_the_partner_and_its_person_with_a_link_shown_once(app):
    client, application = admin_client(app), pending()
    listing = client.get("/admin/applications").get_data(as_text=True)
    assert "Fabrikam Reviews GmbH" in listing and 'href="/admin/applications"' in listing
    token = form_token(client, f"/admin/applications/{application.id}")
    response = client.post(f"/admin/applications/{application.id}/approve", data={"csrf_token": token})
    assert response.status_code == 200
    partner = db.session.scalars(select(Partner)).one()
    assert (partner.name, partner.kind, partner.country, partner.status) == (
        "Fabrikam Reviews GmbH",
        "reseller",
        "DE",
        "active",
    )
    person = find_person("anna@fabrikam.example")
    assert person is not None and (person.role, person.partner_id) == ("partner", partner.id)
    db.session.refresh(application)
    assert (application.status, application.partner_id) == ("approved", partner.id)

    link = RESET_LINK.search(response.get_data(as_text=True)).group(1)
    assert link.startswith("http://handoff.test/password/reset/")
    assert link not in client.get(f"/admin/applications/{application.id}").get_data(as_text=True)
    path = link.removeprefix("http://handoff.test")
    reset = {"password": "a brand new passphrase", "confirm": "a brand new passphrase"}
    newcomer = app.test_client()
    assert newcomer.post(path, data={**reset, "csrf_token": form_token(newcomer, path)}).status_code == 302
    assert sign_in(newcomer, "anna@fabrikam.example", "a brand new passphrase").headers["Location"] == "/portal"


def test_the_country_is_named_in_the_readers_language_beside_its_code(app):
    client, application = admin_client(app), pending()
    assert "Germany <code>DE</code>" in client.get("/admin/applications").get_data(as_text=True)
    page = client.get(f"/admin/applications/{application.id}").get_data(as_text=True)
    assert 'id="application-country">Germany <code>DE</code>' in page
    find_person("ops@handoff.example").locale = "ru"
    db.session.commit()
    assert "Германия <code>DE</code>" in client.get("/admin/applications").get_data(as_text=True)


def test_with_mail_configured_the_link_is_mailed_not_shown(app, monkeypatch):
    sent = []
    monkeypatch.setattr(decisions, "mail_is_configured", lambda: True)
    monkeypatch.setattr(decisions, "request_reset", lambda email, locale: sent.append(email))
    client, application = admin_client(app), pending()
    token = form_token(client, f"/admin/applications/{application.id}")
    page = client.post(f"/admin/applications/{application.id}/approve", data={"csrf_token": token}).get_data(
        as_text=True
    )
    assert sent == ["anna@fabrikam.example"] and 'id="reset-link"' not in page and "on its way" in page


def test_deciding_twice_says_so_and_changes_nothing(app):
    client, application = admin_client(app), pending()
    token = form_token(client, f"/admin/applications/{application.id}")
    assert client.post(f"/admin/applications/{application.id}/approve", data={"csrf_token": token}).status_code == 200
    again = client.post(f"/admin/applications/{application.id}/approve", data={"csrf_token": token})
    assert again.status_code == 409 and "already decided" in again.get_data(as_text=True)
    rejected = client.post(f"/admin/applications/{application.id}/reject", data={"csrf_token": token, "reason": "no"})
    assert rejected.status_code == 409
    assert db.session.scalar(select(func.count()).select_from(Partner)) == 1
    db.session.refresh(application)
    assert (application.status, application.reason) == ("approved", None)


@pytest.mark.parametrize("app", ["sqlite"], indirect=True)
def test_a_rejection_needs_a_reason(app):
    client, application = admin_client(app), pending()
    path = f"/admin/applications/{application.id}"
    token = form_token(client, path)
    refused = client.post(f"{path}/reject", data={"csrf_token": token, "reason": "  "})
    assert refused.status_code == 400 and "Give the reason" in refused.get_data(as_text=True)
    db.session.refresh(application)
    assert application.status == "pending"
    done = client.post(f"{path}/reject", data={"csrf_token": token, "reason": "No site yet.\nApply again later."})
    assert done.status_code == 302
    db.session.refresh(application)
    assert (application.status, application.reason) == ("rejected", "No site yet.\nApply again later.")
    assert "No site yet." in client.get(path).get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Partner)) == 0


@pytest.mark.parametrize("app", ["sqlite"], indirect=True)
def test_an_approval_whose_person_exists_already_writes_nothing(app):
    client, application = admin_client(app), pending(email="ops@handoff.example")
    token = form_token(client, f"/admin/applications/{application.id}")
    response = client.post(f"/admin/applications/{application.id}/approve", data={"csrf_token": token})
    assert response.status_code == 422 and "already has an account" in response.get_data(as_text=True)
    db.session.refresh(application)
    assert application.status == "pending"
    assert db.session.scalar(select(func.count()).select_from(Partner)) == 0
    assert db.session.scalar(select(func.count()).select_from(PasswordReset)) == 0


@pytest.mark.parametrize("role", ["partner", "advertiser", "finance"])
@pytest.mark.parametrize("app", ["sqlite"], indirect=True)
def test_other_roles_get_403(app, client, role):
    application = pending()
    person = make_person(role)
    sign_in(client, person.email)
    assert client.get("/admin/applications").status_code == 403
    assert client.get(f"/admin/applications/{application.id}").status_code == 403
    token = form_token(client, "/portal")
    assert client.post(f"/admin/applications/{application.id}/approve", data={"csrf_token": token}).status_code == 403
    db.session.refresh(application)
    assert application.status == "pending"


@pytest.mark.parametrize("app", ["sqlite"], indirect=True)
def test_not_signed_in_goes_to_sign_in_and_unknown_ids_are_404(app, client):
    assert client.get("/admin/applications").headers["Location"] == "/login?next=%2Fadmin%2Fapplications"
    admin = admin_client(app)
    assert admin.get("/admin/applications/999").status_code == 404
    token = form_token(admin, "/admin/applications")
    assert admin.post("/admin/applications/999/approve", data={"csrf_token": token}).status_code == 404


@pytest.mark.parametrize("app", ["sqlite"], indirect=True)
def test_decisions_need_their_token(app):
    client, application = admin_client(app), pending()
    assert client.post(f"/admin/applications/{application.id}/approve").status_code == 400
    assert client.post(f"/admin/applications/{application.id}/reject", data={"reason": "x"}).status_code == 400
    db.session.refresh(application)
    assert application.status == "pending" and db.session.scalars(select(Person)).all()[0].role == "admin"
