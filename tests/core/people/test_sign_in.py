"""Signing in: the session cookie, one answer for every refusal, lock-out and its end, the per-address limit."""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from core.db import db, utcnow
from core.people.models import Person, PersonSession
from tests.conftest import _build, _teardown, make_settings
from tests.core.people.helpers import PASSWORD, TOKEN, make_person, session_cookie, sign_in


def test_signing_in_sets_an_http_only_cookie_whose_hash_alone_is_stored(app, client):
    person = make_person("partner")
    response = sign_in(client, "  Partner@People.example ", environ={"REMOTE_ADDR": "203.0.113.9"})
    assert response.status_code == 302 and response.headers["Location"] == "/portal"
    set_cookie = response.headers["Set-Cookie"]
    assert "handoff_session=" in set_cookie and "HttpOnly" in set_cookie and "SameSite=Lax" in set_cookie
    assert "Secure" not in set_cookie  # http://handoff.test
    token = session_cookie(client).value
    stored = db.session.scalar(select(PersonSession).where(PersonSession.person_id == person.id))
    assert stored.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert stored.ip_prefix == "203.0.113.0/24" and stored.revoked_at is None
    assert stored.expires_at - stored.created_at == timedelta(hours=24)
    db.session.expire_all()
    assert db.session.get(Person, person.id).last_login_at is not None

    portal = client.get("/portal").get_data(as_text=True)
    assert person.email in portal and "Partner" in portal
    assert f"statements/{person.partner_id}.html" in portal


def test_the_cookie_is_secure_when_the_public_address_is_https(tmp_path):
    app = _build(make_settings(f"sqlite:///{tmp_path / 'h.db'}", tmp_path, public_base_url="https://handoff.test"))
    with app.app_context():
        make_person()
        client = app.test_client()
        page = client.get("/login", base_url="https://handoff.test").get_data(as_text=True)
        token = TOKEN.search(page).group(1)
        # Flask-WTF checks the Referer of an HTTPS form post, as a browser sends it.
        response = client.post(
            "/login",
            data={"email": "admin@people.example", "password": PASSWORD, "csrf_token": token},
            base_url="https://handoff.test",
            headers={"Referer": "https://handoff.test/login"},
        )
        assert response.status_code == 302
        assert "Secure" in response.headers["Set-Cookie"]
    _teardown(app)


def without_token(html: str) -> str:
    return TOKEN.sub("", html)


def test_unknown_email_and_wrong_password_get_the_same_answer(app, client):
    make_person()
    wrong = sign_in(client, "admin@people.example", "not the password")
    unknown = sign_in(client, "nobody@people.example", "not the password")
    malformed = sign_in(client, "not an address", "not the password")
    assert wrong.status_code == unknown.status_code == malformed.status_code == 200
    assert "locked for 15 minutes" in wrong.get_data(as_text=True)
    assert session_cookie(client) is None
    # Only the echoed address differs.
    bodies = [without_token(r.get_data(as_text=True)) for r in (wrong, unknown)]
    assert bodies[0].replace("admin@people.example", "X") == bodies[1].replace("nobody@people.example", "X")


def test_five_failures_lock_the_person_out_for_fifteen_minutes(app, client, time_machine):
    time_machine.move_to("2031-03-01 09:00:00+00:00", tick=False)
    person = make_person()
    for attempt in range(1, 5):
        sign_in(client, person.email, "wrong password!")
        db.session.expire_all()
        assert db.session.get(Person, person.id).failed_logins == attempt
    first_refusal = sign_in(client, person.email, "wrong password!").get_data(as_text=True)
    db.session.expire_all()
    locked = db.session.get(Person, person.id)
    assert locked.locked_until == utcnow() + timedelta(minutes=15) and locked.failed_logins == 0

    refused = sign_in(client, person.email)  # the right password, while locked
    assert refused.status_code == 200 and session_cookie(client) is None
    assert without_token(refused.get_data(as_text=True)) == without_token(first_refusal)

    time_machine.shift(timedelta(minutes=14, seconds=59))
    assert sign_in(client, person.email).status_code == 200
    time_machine.shift(timedelta(seconds=2))
    assert sign_in(client, person.email).status_code == 302
    db.session.expire_all()
    assert db.session.get(Person, person.id).locked_until is None


def test_an_inactive_person_cannot_sign_in(app, client):
    person = make_person()
    person.active = False
    db.session.commit()
    assert sign_in(client, person.email).status_code == 200
    assert session_cookie(client) is None


@pytest.mark.parametrize(
    "next_path, lands_on",
    [
        ("/portal?tab=2", "/portal?tab=2"),
        ("/demo/landing", "/demo/landing"),
        ("//evil.example/portal", "/portal"),
        ("https://evil.example/", "/portal"),
        ("/\\evil.example", "/portal"),
        ("javascript:alert(1)", "/portal"),
        ("", "/portal"),
    ],
)
@pytest.mark.parametrize("app", ["sqlite"], indirect=True)
def test_after_signing_in_only_a_local_next_is_followed(app, client, next_path, lands_on):
    make_person()
    assert sign_in(client, "admin@people.example", next_path=next_path).headers["Location"] == lands_on


@pytest.mark.parametrize("app", ["sqlite"], indirect=True)
def test_the_login_page_carries_next_into_its_form(app, client):
    page = client.get("/login?next=/portal%3Fx%3D1").get_data(as_text=True)
    assert re.search(r'name="next" type="hidden" value="/portal\?x=1"', page)
    page = client.get("/login?next=https://evil.example/").get_data(as_text=True)
    assert 'id="next" name="next" type="hidden" value="/portal"' in page


def test_logins_are_limited_per_address(tmp_path):
    app = _build(make_settings(f"sqlite:///{tmp_path / 'h.db'}", tmp_path, rate_limit_logins="3/hour"))
    with app.app_context():
        make_person()
        client = app.test_client()
        answers = [sign_in(client, "admin@people.example", "wrong password!").status_code for _ in range(3)]
        refused = sign_in(client, "admin@people.example")
        other_address = sign_in(client, "admin@people.example", environ={"REMOTE_ADDR": "198.51.100.1"})
    _teardown(app)
    assert answers == [200, 200, 200]
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
    assert other_address.status_code == 302
