"""Sessions end when signed out, revoked, idle too long or too old, on the very next request."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from core.db import db
from core.people.models import PersonSession
from core.people.sessions import revoke_sessions
from tests.core.people.helpers import PASSWORD, form_token, make_person, session_cookie, sign_in


def signed_in(client, role: str = "admin"):
    person = make_person(role)
    assert sign_in(client, person.email).status_code == 302
    portal = client.get("/portal")
    assert portal.status_code == 200 and portal.headers["Cache-Control"] == "no-store"
    return person


def is_sent_to_sign_in(client, path: str = "/portal") -> bool:
    response = client.get(path)
    return response.status_code == 302 and response.headers["Location"].startswith("/login")


def test_signing_out_revokes_the_session_and_clears_the_cookie(app, client):
    person = signed_in(client)
    response = client.post("/logout", data={"csrf_token": form_token(client, "/portal")})
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    assert session_cookie(client) is None
    stored = db.session.scalar(select(PersonSession).where(PersonSession.person_id == person.id))
    db.session.refresh(stored)
    assert stored.revoked_at is not None
    assert is_sent_to_sign_in(client)


def test_a_revoked_session_is_gone_on_the_next_request(app, client):
    person = signed_in(client)
    other_browser = app.test_client()
    sign_in(other_browser, person.email)
    assert revoke_sessions(person.id) == 2
    db.session.commit()
    response = client.get("/portal")
    assert response.status_code == 302
    assert "handoff_session=;" in response.headers["Set-Cookie"]  # the dead cookie is removed
    assert is_sent_to_sign_in(other_browser)


@pytest.mark.parametrize("app", ["sqlite"], indirect=True)
def test_a_stolen_cookie_of_a_revoked_session_stays_dead(app, client):
    person = signed_in(client)
    token = session_cookie(client).value
    revoke_sessions(person.id)
    db.session.commit()
    thief = app.test_client()
    thief.set_cookie("handoff_session", token)
    assert is_sent_to_sign_in(thief)


def test_an_idle_session_ends_and_an_active_one_is_kept_alive(app, client, time_machine):
    time_machine.move_to("2031-03-01 09:00:00+00:00", tick=False)
    signed_in(client)
    for _ in range(3):  # 3 × 100 minutes of use, each view within the 120-minute idle limit
        time_machine.shift(timedelta(minutes=100))
        assert client.get("/portal").status_code == 200
    time_machine.shift(timedelta(minutes=120, seconds=1))
    assert is_sent_to_sign_in(client)


@pytest.mark.parametrize("app", ["sqlite"], indirect=True)
def test_a_session_ends_after_its_absolute_lifetime_however_busy(app, client, time_machine):
    time_machine.move_to("2031-03-01 09:00:00+00:00", tick=False)
    signed_in(client)
    for _ in range(14):  # 23 h 20 min of steady use
        time_machine.shift(timedelta(minutes=100))
        assert client.get("/portal").status_code == 200
    time_machine.shift(timedelta(minutes=41))
    assert is_sent_to_sign_in(client)


@pytest.mark.parametrize("app", ["sqlite"], indirect=True)
def test_last_seen_is_written_at_most_once_a_minute(app, client, time_machine):
    time_machine.move_to("2031-03-01 09:00:00+00:00", tick=False)
    person = signed_in(client)

    def last_seen():
        db.session.expire_all()
        return db.session.scalar(select(PersonSession.last_seen_at).where(PersonSession.person_id == person.id))

    first = last_seen()
    time_machine.shift(timedelta(seconds=30))
    client.get("/portal")
    assert last_seen() == first
    time_machine.shift(timedelta(seconds=31))
    client.get("/portal")
    assert last_seen() == first + timedelta(seconds=61)


@pytest.mark.parametrize("app", ["sqlite"], indirect=True)
def test_a_deactivated_person_is_signed_out(app, client):
    person = signed_in(client)
    person.active = False
    db.session.commit()
    assert is_sent_to_sign_in(client)


@pytest.mark.parametrize("app", ["sqlite"], indirect=True)
def test_signing_in_again_ends_the_browsers_previous_session(app, client):
    person = signed_in(client)
    first = session_cookie(client).value
    # Signed in, /login sends the browser on; the header's token signs the form just as well.
    token = form_token(client, "/portal")
    client.post("/login", data={"email": person.email, "password": PASSWORD, "csrf_token": token})
    assert session_cookie(client).value != first
    sessions = db.session.scalars(select(PersonSession).order_by(PersonSession.id)).all()
    for session in sessions:
        db.session.refresh(session)
    assert [s.revoked_at is not None for s in sessions] == [True, False]
