"""/admin/people: list, create with the CLI's rules, sign someone out everywhere, lift a lock-out; admins only."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from core.db import db, utcnow
from core.people.accounts import MAX_FAILED_LOGINS
from core.people.models import Person, PersonSession
from tests.core.people.conftest import cheap_hashes, compiled_catalogues, fresh_request_globals  # noqa: F401
from tests.core.people.helpers import PASSWORD, form_token, make_person, sign_in
from tests.factories import AdvertiserFactory, PartnerFactory

NEW = {"email": "Mia@Vendor.example", "role": "finance", "partner_id": "", "advertiser_id": "", "locale": ""}


def admin(client):
    make_person("admin", email="ops@handoff.example")
    sign_in(client, "ops@handoff.example")
    return client


def people() -> int:
    return db.session.scalar(select(func.count()).select_from(Person))


def create(client, **changes):
    data = {**NEW, "password": PASSWORD, **changes, "csrf_token": form_token(client, "/admin/people")}
    return client.post("/admin/people", data=data)


def test_an_admin_sees_people_with_their_organisation_and_adds_one(app, client):
    partner = PartnerFactory(name="Fabrikam Reviews")
    make_person("partner", email="sam@fabrikam.example", partner_id=partner.id)
    admin(client)
    listing = client.get("/admin/people").get_data(as_text=True)
    assert 'href="/admin/people"' in listing
    assert "sam@fabrikam.example" in listing and f"Fabrikam Reviews (#{partner.id})" in listing and "never" in listing

    response = create(client, role="partner", partner_id=str(partner.id), locale="ru")
    assert response.status_code == 302
    person = db.session.scalar(select(Person).where(Person.email == "mia@vendor.example"))
    assert (person.role, person.partner_id, person.locale) == ("partner", partner.id, "ru")
    assert "mia@vendor.example can sign in now" in client.get(response.headers["Location"]).get_data(as_text=True)
    assert sign_in(app.test_client(), "mia@vendor.example").headers["Location"] == "/portal"


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"role": "partner"}, "partner_id", "Choose the organisation"),
        ({"role": "finance", "advertiser_id": "ADVERTISER"}, "advertiser_id", "leave it empty"),
        ({"role": "partner", "partner_id": "999"}, "partner_id", "Not a valid choice"),
        ({"password": "short"}, "password", "at least 12 characters"),
        ({"email": "not an address"}, "email", "not an email address"),
        ({"email": "OPS@handoff.example"}, "email", "already has an account"),
        ({"role": "owner"}, "role", "Not a valid choice"),
    ],
)
@pytest.mark.parametrize("app", ["sqlite"], indirect=True)
def test_a_person_the_cli_would_refuse_is_refused_beside_the_field(app, client, changes, field, message):
    advertiser = AdvertiserFactory()
    admin(client)
    if changes.get("advertiser_id") == "ADVERTISER":
        changes = {**changes, "advertiser_id": str(advertiser.id)}
    response = create(client, **changes)
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert f'id="{field}-error"' in page and message in page, page
    assert people() == 1


def test_an_admin_signs_a_person_out_everywhere_and_lifts_a_lock(app, client):
    person = make_person("finance", email="fin@handoff.example")
    other = app.test_client()
    sign_in(other, person.email)
    assert other.get("/portal").status_code == 200
    admin(client)
    token = form_token(client, "/admin/people")
    response = client.post(f"/admin/people/{person.id}/revoke-sessions", data={"csrf_token": token})
    assert response.status_code == 302 and "signed out everywhere" in client.get(response.headers["Location"]).get_data(
        as_text=True
    )
    assert other.get("/portal").status_code == 302
    live = (
        select(func.count())
        .select_from(PersonSession)
        .where(PersonSession.person_id == person.id, PersonSession.revoked_at.is_(None))
    )
    assert db.session.scalar(live) == 0

    for _ in range(MAX_FAILED_LOGINS):
        sign_in(other, person.email, "wrong password, surely")
    db.session.expire_all()
    assert db.session.get(Person, person.id).locked_until > utcnow() + timedelta(minutes=10)
    assert "Unlock fin@handoff.example" in client.get("/admin/people").get_data(as_text=True)
    client.post(f"/admin/people/{person.id}/unlock", data={"csrf_token": token})
    db.session.expire_all()
    assert db.session.get(Person, person.id).locked_until is None
    assert sign_in(other, person.email).headers["Location"] == "/portal"


@pytest.mark.parametrize("app", ["sqlite"], indirect=True)
def test_unknown_ids_are_404_and_forms_need_their_token(app, client):
    admin(client)
    token = form_token(client, "/admin/people")
    assert client.post("/admin/people/999/unlock", data={"csrf_token": token}).status_code == 404
    assert client.post("/admin/people/999/revoke-sessions", data={"csrf_token": token}).status_code == 404
    assert client.post("/admin/people", data={**NEW, "password": PASSWORD}).status_code == 400
    assert client.post("/admin/people/1/revoke-sessions").status_code == 400
    assert people() == 1 and client.get("/admin/people").status_code == 200  # the admin is still signed in


@pytest.mark.parametrize("role", ["partner", "advertiser", "finance"])
@pytest.mark.parametrize("app", ["sqlite"], indirect=True)
def test_other_roles_get_403_and_strangers_sign_in(app, client, role):
    assert client.get("/admin/people").headers["Location"] == "/login?next=%2Fadmin%2Fpeople"
    person = make_person(role)
    sign_in(client, person.email)
    assert client.get("/admin/people").status_code == 403
    token = form_token(client, "/portal")
    assert client.post("/admin/people", data={**NEW, "password": PASSWORD, "csrf_token": token}).status_code == 403
    assert client.post(f"/admin/people/{person.id}/revoke-sessions", data={"csrf_token": token}).status_code == 403
    assert people() == 1 and client.get("/portal").status_code == 200
