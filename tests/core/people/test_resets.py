"""Password reset by an emailed link, through a real SMTP server on loopback (aiosmtpd)."""

from __future__ import annotations

import logging
import re
import time
from datetime import timedelta
from email import message_from_bytes, policy

import pytest
from aiosmtpd.controller import Controller

from core.db import db
from core.people.models import Person
from tests.conftest import _build, _teardown, make_settings
from tests.core.people.helpers import PASSWORD, form_token, make_person, session_cookie, sign_in
from tests.services import free_loopback_port

NEW_PASSWORD = "a new and longer passphrase"
LINK = re.compile(r"http://handoff\.test(/password/reset/[A-Za-z0-9_-]+)")


class Inbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"

    def wait_for(self, count: int, timeout: float = 10.0):
        deadline = time.monotonic() + timeout
        while len(self.messages) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        return self.messages


@pytest.fixture
def inbox():
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_loopback_port())
    controller.start()
    yield inbox, controller.port
    controller.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def mail_app(request, tmp_path, inbox):
    url = f"sqlite:///{tmp_path / 'h.db'}" if request.param == "sqlite" else request.getfixturevalue("pg_schema_url")
    settings = make_settings(url, tmp_path, smtp_host="127.0.0.1", smtp_port=inbox[1], smtp_sender="pm@handoff.test")
    app = _build(settings)
    with app.app_context():
        yield app
    _teardown(app)


def ask_for_reset(client, email: str):
    return client.post("/password/forgot", data={"email": email, "csrf_token": form_token(client, "/password/forgot")})


def reset_with(client, path: str, password: str, confirm: str | None = None):
    return client.post(
        path, data={"password": password, "confirm": confirm or password, "csrf_token": form_token(client, path)}
    )


def test_a_reset_link_by_mail_sets_a_new_password_once_and_ends_every_session(mail_app, inbox):
    mailbox, _ = inbox
    person = make_person()
    browser, other_browser = mail_app.test_client(), mail_app.test_client()
    sign_in(other_browser, person.email)

    unknown = ask_for_reset(browser, "nobody@people.example")
    known = ask_for_reset(browser, "ADMIN@people.example")
    assert unknown.status_code == known.status_code == 200
    assert "a link to choose a new password is on its way" in known.get_data(as_text=True)
    assert "no email is sent" not in known.get_data(as_text=True)
    [message] = mailbox.wait_for(1)
    time.sleep(0.2)  # nothing else arrives: the unknown address got no mail
    assert len(mailbox.messages) == 1
    assert (message["To"], message["From"], message["Subject"]) == (
        "admin@people.example",
        "pm@handoff.test",
        "Reset your Handoff password",
    )
    path = LINK.search(message.get_content()).group(1)

    short = reset_with(browser, path, "too short")
    assert "Use 12 to 200 characters." in short.get_data(as_text=True)
    differ = reset_with(browser, path, NEW_PASSWORD, NEW_PASSWORD + "!")
    assert "The passwords differ." in differ.get_data(as_text=True)

    done = reset_with(browser, path, NEW_PASSWORD)
    assert done.status_code == 302 and done.headers["Location"] == "/login?reset=1"
    assert other_browser.get("/portal").status_code == 302  # signed out everywhere
    assert sign_in(browser, person.email, PASSWORD).status_code == 200
    assert sign_in(browser, person.email, NEW_PASSWORD).status_code == 302

    again = browser.get(path)
    assert again.status_code == 404 and "already been used or has expired" in again.get_data(as_text=True)
    assert reset_with(mail_app.test_client(), path, "yet another passphrase").status_code == 404


@pytest.mark.parametrize("mail_app", ["sqlite"], indirect=True)
def test_a_reset_link_expires_after_an_hour(mail_app, inbox, time_machine):
    time_machine.move_to("2031-03-01 09:00:00+00:00", tick=True)
    make_person()
    client = mail_app.test_client()
    ask_for_reset(client, "admin@people.example")
    path = LINK.search(inbox[0].wait_for(1)[0].get_content()).group(1)
    time_machine.shift(timedelta(minutes=59))
    assert client.get(path).status_code == 200
    time_machine.shift(timedelta(minutes=2))
    assert client.get(path).status_code == 404


@pytest.mark.parametrize("mail_app", ["sqlite"], indirect=True)
def test_a_reset_unlocks_a_locked_person(mail_app, inbox):
    person = make_person()
    client = mail_app.test_client()
    for _ in range(5):
        sign_in(client, person.email, "wrong password!")
    ask_for_reset(client, person.email)
    path = LINK.search(inbox[0].wait_for(1)[0].get_content()).group(1)
    reset_with(client, path, NEW_PASSWORD)
    db.session.expire_all()
    assert db.session.get(Person, person.id).locked_until is None
    assert sign_in(client, person.email, NEW_PASSWORD).status_code == 302
    assert session_cookie(client) is not None


@pytest.mark.parametrize("app", ["sqlite"], indirect=True)
def test_without_smtp_the_embedded_default_logs_the_link_and_says_so(app, client, caplog):
    make_person()
    with caplog.at_level(logging.INFO, logger="core.people.resets"):
        page = ask_for_reset(client, "admin@people.example").get_data(as_text=True)
    assert "no email is sent" in page and "server's log" in page
    [record] = [r for r in caplog.records if r.name == "core.people.resets"]
    assert record.levelno == logging.INFO and "not sent" in record.getMessage()
    path = LINK.search(record.getMessage()).group(1)
    assert client.get(path).status_code == 200
