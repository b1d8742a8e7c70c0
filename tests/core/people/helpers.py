"""Making people and signing them in through the real forms, CSRF tokens included."""

from __future__ import annotations

import re

from core.db import db
from core.people.accounts import create_person
from core.people.models import Person
from tests.factories import AdvertiserFactory, PartnerFactory

PASSWORD = "correct horse battery staple"
TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def make_person(role: str = "admin", email: str | None = None, password: str = PASSWORD, **values) -> Person:
    if role == "partner" and "partner_id" not in values:
        values["partner_id"] = PartnerFactory().id
    if role == "advertiser" and "advertiser_id" not in values:
        values["advertiser_id"] = AdvertiserFactory().id
    person = create_person(email or f"{role}@people.example", password, role, **values)
    db.session.commit()
    return person


def form_token(client, path: str = "/login") -> str:
    page = client.get(path).get_data(as_text=True)
    found = TOKEN.search(page)
    assert found, f"no CSRF token on {path}"
    return found.group(1)


def sign_in(client, email: str, password: str = PASSWORD, next_path: str | None = None, environ: dict | None = None):
    data = {"email": email, "password": password, "csrf_token": form_token(client)}
    if next_path is not None:
        data["next"] = next_path
    return client.post("/login", data=data, environ_base=environ or {})


def session_cookie(client):
    return client.get_cookie("handoff_session")
