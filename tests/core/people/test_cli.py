"""``flask --app app users create|list|revoke-sessions`` with the messages an operator needs."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from core.db import db
from core.people.models import Person, PersonSession
from tests.core.people.helpers import PASSWORD, make_person, sign_in
from tests.factories import AdvertiserFactory, PartnerFactory


def run(app, *args, input=None):
    return app.test_cli_runner().invoke(args=["users", *args], input=input)


def test_creating_people_of_every_role(app):
    partner, advertiser = PartnerFactory(), AdvertiserFactory()
    for args in (
        ["--email", "Ops@Handoff.example", "--role", "admin"],
        ["--email", "money@handoff.example", "--role", "finance", "--locale", "ru"],
        ["--email", "p@partner.example", "--role", "partner", "--partner-id", str(partner.id)],
        ["--email", "a@vendor.example", "--role", "advertiser", "--advertiser-id", str(advertiser.id)],
    ):
        result = run(app, "create", *args, "--password", PASSWORD)
        assert result.exit_code == 0, result.output
    people = {p.email: p for p in db.session.scalars(select(Person))}
    assert set(people) == {"ops@handoff.example", "money@handoff.example", "p@partner.example", "a@vendor.example"}
    assert people["p@partner.example"].partner_id == partner.id and people["money@handoff.example"].locale == "ru"
    assert all(PASSWORD not in p.password_hash for p in people.values())

    listing = run(app, "list").output
    assert "ops@handoff.example" in listing and f"partner {partner.id}" in listing and "never" in listing


@pytest.mark.parametrize(
    "args, message",
    [
        (["--role", "partner"], "a partner person needs --partner-id"),
        (["--role", "partner", "--partner-id", "999"], "there is no partner with id 999"),
        (["--role", "advertiser", "--advertiser-id", "999"], "there is no advertiser with id 999"),
        (["--role", "admin", "--partner-id", "1"], "only a partner person has a partner id"),
        (["--role", "finance", "--password", "short"], "at least 12 characters"),
        (["--role", "admin", "--email", "not-an-address"], "is not an email address"),
        (["--role", "admin", "--email", "TAKEN@people.example"], "taken@people.example already has an account"),
    ],
)
@pytest.mark.parametrize("app", ["sqlite"], indirect=True)
def test_refusals_say_what_is_wrong(app, args, message):
    make_person(email="taken@people.example")
    options = dict(zip(args[::2], args[1::2], strict=True))
    options.setdefault("--email", "new@people.example")
    options.setdefault("--password", PASSWORD)
    result = run(app, "create", *[part for pair in options.items() for part in pair])
    assert result.exit_code == 1
    assert message in result.output
    assert db.session.scalar(select(Person).where(Person.email == "new@people.example")) is None


@pytest.mark.parametrize("app", ["sqlite"], indirect=True)
def test_the_password_is_asked_for_hidden_when_not_given(app):
    result = run(app, "create", "--email", "quiet@people.example", "--role", "admin", input=f"{PASSWORD}\n{PASSWORD}\n")
    assert result.exit_code == 0, result.output
    assert PASSWORD not in result.output
    assert db.session.scalar(select(Person).where(Person.email == "quiet@people.example")) is not None


@pytest.mark.parametrize("app", ["sqlite"], indirect=True)
def test_revoking_sessions_signs_a_person_out_everywhere(app, client):
    person = make_person()
    sign_in(client, person.email)
    assert client.get("/portal").status_code == 200
    result = run(app, "revoke-sessions", "--email", "Admin@people.example")
    assert result.exit_code == 0 and "revoked 1 session(s)" in result.output
    assert client.get("/portal").status_code == 302
    assert db.session.scalar(select(PersonSession.revoked_at)) is not None
    assert "no person has the email" in run(app, "revoke-sessions", "--email", "x@people.example").output
