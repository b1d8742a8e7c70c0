"""/admin/keys: admins only; a new key shown once and working; a revoked key refused from the next request."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from core.api.apikeys import ApiKey
from core.db import db
from tests.core.people.conftest import cheap_hashes, compiled_catalogues, fresh_request_globals  # noqa: F401
from tests.core.people.helpers import form_token, make_person, sign_in
from tests.factories import AdvertiserFactory, PartnerFactory

NEW_KEY = re.compile(r'id="new-key"[^>]*value="(hk_[^"]+)"')


def signed_in_admin(client):
    make_person("admin")
    sign_in(client, "admin@people.example")
    return client


def create(client, **values):
    data = {"role": "admin", "advertiser_id": "", "partner_id": "", "label": "", **values}
    return client.post("/admin/keys", data={**data, "csrf_token": form_token(client, "/admin/keys")})


def plaintext_of(response) -> str:
    found = NEW_KEY.search(response.get_data(as_text=True))
    assert found, response.get_data(as_text=True)
    return found.group(1)


@pytest.mark.parametrize("app", ["sqlite"], indirect=True)
def test_anyone_not_signed_in_is_sent_to_sign_in(app, client):
    assert client.get("/admin/keys").headers["Location"] == "/login?next=%2Fadmin%2Fkeys"
    response = client.post("/admin/keys/1/revoke", data={"csrf_token": form_token(client)})
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")


@pytest.mark.parametrize("role", ["partner", "advertiser", "finance"])
@pytest.mark.parametrize("app", ["sqlite"], indirect=True)
def test_other_roles_get_403(app, client, role):
    key = ApiKey(key_hash="x" * 64, display_prefix="hk_adm_x", role="admin")
    db.session.add(key)
    person = make_person(role)
    sign_in(client, person.email)
    assert client.get("/admin/keys").status_code == 403
    token = form_token(client, "/portal")
    assert client.post("/admin/keys", data={"role": "admin", "csrf_token": token}).status_code == 403
    assert client.post(f"/admin/keys/{key.id}/revoke", data={"csrf_token": token}).status_code == 403
    assert db.session.scalar(select(ApiKey.revoked_at).where(ApiKey.id == key.id)) is None
    assert len(db.session.scalars(select(ApiKey)).all()) == 1


def test_a_created_key_is_shown_once_listed_and_works(app, client):
    partner = PartnerFactory(name="Fabrikam Reviews")
    signed_in_admin(client)
    assert 'href="/admin/keys"' in client.get("/portal").get_data(as_text=True)
    assert f"Fabrikam Reviews (#{partner.id})" in client.get("/admin/keys").get_data(as_text=True)

    response = create(client, role="partner", partner_id=str(partner.id), label="Fabrikam's shop")
    assert response.status_code == 200
    plaintext = plaintext_of(response)
    assert response.headers["Cache-Control"] == "no-store"
    api = app.test_client()
    links = api.get("/api/v1/links", headers={"Authorization": f"Bearer {plaintext}"})
    assert links.status_code == 200, links.get_data(as_text=True)

    listing = client.get("/admin/keys").get_data(as_text=True)
    assert plaintext not in listing
    assert plaintext[:12] in listing and "Fabrikam&#39;s shop" in listing and "Fabrikam Reviews" in listing
    assert "never" not in listing  # the key was just used
    assert '<button class="link-button danger" type="submit" aria-label="Revoke key' in listing  # a light row button


@pytest.mark.parametrize(
    "values",
    [
        {"role": "partner"},
        {"role": "admin", "partner_id": "PARTNER"},
        {"role": "advertiser", "partner_id": "PARTNER"},
        {"role": "partner", "partner_id": "999"},
        {"role": "owner"},
    ],
)
@pytest.mark.parametrize("app", ["sqlite"], indirect=True)
def test_a_key_that_does_not_fit_its_role_is_refused(app, client, values):
    partner = PartnerFactory()
    AdvertiserFactory()
    signed_in_admin(client)
    if values.get("partner_id") == "PARTNER":
        values = {**values, "partner_id": str(partner.id)}
    response = create(client, **values)
    assert response.status_code == 400
    assert 'class="error"' in response.get_data(as_text=True) and "new-key" not in response.get_data(as_text=True)
    assert db.session.scalars(select(ApiKey)).all() == []


@pytest.mark.parametrize("app", ["sqlite"], indirect=True)
def test_forms_without_their_token_are_refused(app, client):
    signed_in_admin(client)
    key = ApiKey(key_hash="x" * 64, display_prefix="hk_adm_x", role="admin")
    db.session.add(key)
    db.session.commit()
    assert client.post("/admin/keys", data={"role": "admin"}).status_code == 400
    assert client.post(f"/admin/keys/{key.id}/revoke").status_code == 400
    db.session.expire_all()
    assert db.session.scalars(select(ApiKey)).all() == [key] and key.revoked_at is None


def test_a_revoked_key_is_refused_on_the_next_request(stream_app):
    browser, api = signed_in_admin(stream_app.test_client()), stream_app.test_client()
    headers = {"Authorization": f"Bearer {plaintext_of(create(browser, label='ci'))}"}
    assert api.get("/api/v1/offers", headers=headers).status_code == 200  # now cached by this worker
    key = db.session.scalar(select(ApiKey).where(ApiKey.label == "ci"))
    token = form_token(browser, "/admin/keys")
    response = browser.post(f"/admin/keys/{key.id}/revoke", data={"csrf_token": token})
    assert response.headers["Location"] == f"/admin/keys?revoked={key.id}"
    assert "is revoked" in browser.get(response.headers["Location"]).get_data(as_text=True)
    refused = api.get("/api/v1/offers", headers=headers)
    assert (refused.status_code, refused.json["error"]) == (401, "unknown or revoked API key")
    again = browser.post(f"/admin/keys/{key.id}/revoke", data={"csrf_token": token})
    assert again.status_code == 302  # revoking twice changes nothing


def test_last_use_is_written_at_most_once_a_minute_without_emptying_the_key_cache(stream_app, monkeypatch):
    browser, api = signed_in_admin(stream_app.test_client()), stream_app.test_client()
    headers = {"Authorization": f"Bearer {plaintext_of(create(browser, label='busy'))}"}
    version_key = stream_app.extensions["handoff.settings"].redis_prefix + "cache:config-version"
    redis = stream_app.extensions["handoff.redis"]
    assert api.get("/api/v1/offers", headers=headers).status_code == 200
    key = db.session.scalar(select(ApiKey).where(ApiKey.label == "busy"))
    first_use = key.last_used_at
    assert first_use is not None

    # An old stamp and a worker whose own note is old: the next request writes again, and only then.
    db.session.execute(
        ApiKey.__table__.update().where(ApiKey.id == key.id).values(last_used_at=first_use - timedelta(minutes=5))
    )
    db.session.commit()
    version = redis.get(version_key)
    assert api.get("/api/v1/offers", headers=headers).status_code == 200
    db.session.expire_all()
    assert key.last_used_at == first_use - timedelta(minutes=5)  # this worker stamped it under a minute ago
    stream_app.extensions["handoff.key_use_stamped"].clear()
    assert api.get("/api/v1/offers", headers=headers).status_code == 200
    db.session.expire_all()
    assert key.last_used_at > first_use - timedelta(seconds=1)
    assert key.last_used_at <= datetime.now(UTC)
    assert redis.get(version_key) == version  # the stamps bumped nothing: the key stayed cached
