"""/portal/postback: the partner's URL saved as PUT /api/v1/postback saves it, a queued test, the delivery log."""

from __future__ import annotations

import pytest
from flask import g
from sqlalchemy import func, select

from core.db import db
from tests.core.people.conftest import cheap_hashes, compiled_catalogues, fresh_request_globals  # noqa: F401
from tests.core.people.helpers import form_token, make_person, sign_in
from tests.factories import PartnerFactory
from tracker.postbacks.delivery import queue_test
from tracker.postbacks.models import PostbackDelivery, PostbackEndpoint

PATH = "/portal/postback"
LOCAL_URL = "http://127.0.0.1:9/postback?click={click_id}&status={status}"


def forget_request_globals() -> None:
    # As tests/core/people/conftest.py does for the ``app`` fixture: each request starts with an empty ``g``.
    for name in ("_flask_babel", "csrf_token"):
        g.pop(name, None)


@pytest.fixture
def open_client(open_app):
    """A browser on an app whose operator allows private postback targets, so a loopback URL is accepted."""
    open_app.before_request_funcs.setdefault(None, []).insert(0, forget_request_globals)
    return open_app.test_client()


def signed_in_partner(client, partner=None):
    person = make_person("partner", partner_id=(partner or PartnerFactory()).id)
    sign_in(client, person.email)
    return person


def save(client, url_template: str, active: bool = True, **extra):
    data = {"url_template": url_template, "csrf_token": form_token(client, PATH), **extra}
    if active:
        data["active"] = "y"
    return client.post(PATH, data=data)


def send_test(client):
    return client.post(f"{PATH}/test", data={"csrf_token": form_token(client, PATH)})


def counts() -> tuple[int, int]:
    endpoints = db.session.scalar(select(func.count()).select_from(PostbackEndpoint))
    return endpoints, db.session.scalar(select(func.count()).select_from(PostbackDelivery))


def test_a_partner_sets_its_postback_and_queues_a_test(open_client):
    client = open_client
    other = PostbackEndpoint(partner_id=PartnerFactory().id, url_template="http://127.0.0.1:9/theirs")
    db.session.add(other)
    db.session.commit()
    queue_test(other)
    person = signed_in_partner(client)
    page = client.get(PATH).get_data(as_text=True)
    assert 'href="/portal/postback" aria-current="page"' in page and "Send test" not in page

    response = save(client, LOCAL_URL)
    assert response.status_code == 303 and response.headers["Location"] == f"{PATH}?saved=1"
    endpoint = db.session.scalar(select(PostbackEndpoint).where(PostbackEndpoint.partner_id == person.partner_id))
    assert (endpoint.url_template, endpoint.active) == (LOCAL_URL, True)
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert 'id="postback-saved"' in page and endpoint.secret in page and "No deliveries yet." in page

    queued = send_test(client)
    assert queued.status_code == 303 and queued.headers["Location"] == f"{PATH}?queued=1"
    delivery = db.session.scalar(select(PostbackDelivery).where(PostbackDelivery.endpoint_id == endpoint.id))
    assert (delivery.kind, delivery.status, delivery.attempts) == ("test", "pending", 0)  # queued, not sent
    log = client.get(queued.headers["Location"]).get_data(as_text=True)
    assert 'id="test-queued"' in log and f'id="delivery-{delivery.id}"' in log
    assert "/theirs" not in log and counts() == (2, 2)


def test_the_api_rules_refuse_a_url_next_to_its_field(open_client):
    client = open_client
    signed_in_partner(client)
    for url, message in [
        ("ftp://files.example/pb", "must be an absolute http or https URL"),
        ("http://127.0.0.1:9/pb?x={nonsense}", "unknown macro(s) {nonsense}"),
        ("http://{click_id}.example/pb", "macros may appear in the path and query only"),
        ("", "Enter your postback URL."),
    ]:
        response = save(client, url)
        page = response.get_data(as_text=True)
        assert response.status_code == 400 and 'id="url_template-error"' in page and message in page, url
    assert counts() == (0, 0)


@pytest.mark.parametrize("app", ["sqlite"], indirect=True)
def test_a_private_address_is_refused_as_the_api_refuses_it(app, client):
    signed_in_partner(client)
    for url in ("http://127.0.0.1/pb", "http://[::1]:8080/pb", "http://localhost/pb"):
        response = save(client, url)
        page = response.get_data(as_text=True)
        assert response.status_code == 400 and "postback URL refused: host" in page and "public hosts only" in page
    assert counts() == (0, 0)


def test_an_inactive_postback_or_none_queues_no_test(open_client):
    client = open_client
    signed_in_partner(client)
    nothing = send_test(client)
    assert nothing.status_code == 409 and "Set your postback URL first." in nothing.get_data(as_text=True)
    assert save(client, LOCAL_URL, active=False).status_code == 303
    assert "disabled>Send test" in client.get(PATH).get_data(as_text=True)
    refused = send_test(client)
    assert refused.status_code == 409 and 'id="test-refused"' in refused.get_data(as_text=True)
    assert counts() == (1, 0)


def test_a_new_secret_is_issued_only_when_asked(open_client):
    client = open_client
    person = signed_in_partner(client)
    save(client, LOCAL_URL)
    endpoint = db.session.scalar(select(PostbackEndpoint).where(PostbackEndpoint.partner_id == person.partner_id))
    first = endpoint.secret
    save(client, LOCAL_URL + "&again=1")
    db.session.expire_all()
    assert endpoint.secret == first and endpoint.url_template.endswith("&again=1")
    save(client, LOCAL_URL, rotate_secret="y")
    db.session.expire_all()
    assert endpoint.secret != first


@pytest.mark.parametrize("role", ["admin", "advertiser", "finance"])
@pytest.mark.parametrize("app", ["sqlite"], indirect=True)
def test_other_roles_get_403(app, client, role):
    sign_in(client, make_person(role).email)
    assert client.get(PATH).status_code == 403
    token = form_token(client, "/portal")
    assert client.post(PATH, data={"url_template": LOCAL_URL, "csrf_token": token}).status_code == 403
    assert client.post(f"{PATH}/test", data={"csrf_token": token}).status_code == 403
    assert counts() == (0, 0)


@pytest.mark.parametrize("app", ["sqlite"], indirect=True)
def test_anyone_not_signed_in_is_sent_to_sign_in(app, client):
    assert client.get(PATH).headers["Location"] == "/login?next=%2Fportal%2Fpostback"


@pytest.mark.parametrize("open_app", ["sqlite"], indirect=True)
def test_posts_without_their_token_are_refused(open_client):
    signed_in_partner(open_client)
    assert open_client.post(PATH, data={"url_template": LOCAL_URL, "active": "y"}).status_code == 400
    assert open_client.post(f"{PATH}/test").status_code == 400
    assert counts() == (0, 0)
