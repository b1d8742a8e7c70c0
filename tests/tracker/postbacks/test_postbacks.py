"""Partner postbacks: macros, signatures, retries with backoff, SSRF refusals, and the partner's own log."""

from __future__ import annotations

import socket
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import time_machine
from sqlalchemy import select

from core.db import db, utcnow
from tests.factories import LinkFactory, PartnerFactory, auth
from tests.tracker.postbacks.helpers import (
    T0,
    make_conversion,
    make_endpoint,
    queued,
    verify_signature,
)
from tracker.postbacks.delivery import MAX_ATTEMPTS, backoff, deliver_due
from tracker.postbacks.messages import (
    SIGNATURE_HEADER,
    PostbackRefused,
    check_target,
    enqueue_for_conversion,
    format_amount,
    render_url,
    validate_template,
)
from tracker.postbacks.models import PostbackDelivery, PostbackEndpoint
from tracker.program.models import Click


def test_conversion_postback_substitutes_encoded_macros_and_is_signed(open_app, receiver):
    link = LinkFactory()
    click = Click(
        id=7001,
        created_at=utcnow(),
        link_id=link.id,
        offer_id=link.offer_id,
        partner_id=link.partner_id,
        ref_code="R7001",
        sub1="a b&c=d/é",
        sub2=None,
        sub3="x",
        traffic="human",
        device="desktop",
        os="Linux",
        browser="Firefox",
        visitor_hash="v" * 32,
        is_unique=True,
    )
    db.session.add(click)
    endpoint = make_endpoint(
        link.partner,
        receiver.url + "/pb?cid={click_id}&s1={sub1}&s2={sub2}"
        "&e={event}&o={order_id}&a={amount}&c={currency}&st={status}&com={commission}",
    )
    conversion = make_conversion(link.partner, offer=link.offer, click=click, order_id="A/1 2")
    delivery = enqueue_for_conversion(conversion, "conversion")
    db.session.commit()

    assert deliver_due() == 1

    [request] = receiver.requests
    assert request["path"] == (
        "/pb?cid=7001&s1=a%20b%26c%3Dd%2F%C3%A9&s2=&e=sale&o=A%2F1%202&a=19.99&c=EUR&st=pending&com="
    )
    assert parse_qs(urlsplit(request["path"]).query)["s1"] == ["a b&c=d/é"]
    assert request["headers"]["User-Agent"] == "Handoff-Postback/1"
    verify_signature(endpoint.secret, request["headers"][SIGNATURE_HEADER], receiver.url + request["path"])
    with pytest.raises(AssertionError):
        verify_signature("not-the-secret", request["headers"][SIGNATURE_HEADER], receiver.url + request["path"])
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("delivered", 1, 200)
    assert delivery.delivered_at is not None and delivery.conversion_id == conversion.id
    assert deliver_due() == 0  # delivered once, never again

    conversion.status = "approved"
    enqueue_for_conversion(conversion, "status")
    db.session.commit()
    assert deliver_due() == 1
    assert "&st=approved&" in receiver.paths[-1]


def test_nothing_is_queued_without_an_active_endpoint(open_app):
    partner, idle = PartnerFactory(), PartnerFactory()
    make_endpoint(idle, "http://127.0.0.1:9/pb", active=False)
    assert enqueue_for_conversion(make_conversion(partner), "conversion") is None
    assert enqueue_for_conversion(make_conversion(idle), "conversion") is None
    db.session.commit()
    assert db.session.query(PostbackDelivery).count() == 0


def test_failure_is_retried_after_the_backoff_then_delivered(open_app, receiver):
    receiver.fail_first = 1
    partner = PartnerFactory()
    make_endpoint(partner, receiver.url + "/pb?o={order_id}")
    with time_machine.travel(T0, tick=False) as traveller:
        delivery = queued(partner)
        assert deliver_due() == 1
        assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("pending", 1, 500)
        assert delivery.last_error == "HTTP 500"
        assert delivery.next_attempt_at == T0 + timedelta(seconds=30)

        traveller.move_to(T0 + timedelta(seconds=29))
        assert deliver_due() == 0  # not due yet
        traveller.move_to(T0 + timedelta(seconds=31))
        assert deliver_due() == 1
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("delivered", 2, 200)
    assert len(receiver.requests) == 2


def test_gives_up_after_eight_attempts(open_app, receiver):
    receiver.fail_first = 100
    partner = PartnerFactory()
    make_endpoint(partner, receiver.url + "/pb")
    waits = []
    with time_machine.travel(T0, tick=False) as traveller:
        delivery = queued(partner)
        for _ in range(MAX_ATTEMPTS):
            attempted_at = utcnow()
            assert deliver_due() == 1
            if delivery.status == "pending":
                waits.append((delivery.next_attempt_at - attempted_at).total_seconds())
                traveller.move_to(delivery.next_attempt_at)
        assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("failed", 8, 500)
        traveller.move_to(T0 + timedelta(days=30))
        assert deliver_due() == 0
    assert len(receiver.requests) == MAX_ATTEMPTS
    assert waits == [30, 60, 120, 240, 480, 960, 1920]


def test_backoff_doubles_up_to_six_hours():
    assert [backoff(n).total_seconds() for n in (1, 2, 3)] == [30, 60, 120]
    assert backoff(20) == timedelta(hours=6)


REFUSED_TARGETS = [
    ("http://127.0.0.1/pb", "loopback"),
    ("http://localhost:8080/pb", "loopback"),
    ("http://10.1.2.3/pb", "private"),
    ("http://192.168.0.1/pb", "private"),
    ("http://169.254.169.254/latest/meta-data/", "link-local"),
    ("http://[::1]/pb", "loopback"),
    ("http://[::ffff:127.0.0.1]/pb", "loopback"),
    ("http://0.0.0.0/pb", "unspecified"),
    ("http://no-such-host.invalid/pb", "does not resolve"),
]


@pytest.mark.parametrize("url, reason", REFUSED_TARGETS)
def test_put_refuses_internal_targets(app, url, reason):
    partner = PartnerFactory()
    response = app.test_client().put(
        "/api/v1/postback", json={"url_template": url + "?o={order_id}"}, headers=auth("partner", partner_id=partner.id)
    )
    assert response.status_code == 422, response.json
    assert "refused" in response.json["error"] and reason in response.json["error"]
    assert db.session.query(PostbackEndpoint).count() == 0


@pytest.mark.parametrize("url, reason", REFUSED_TARGETS[:7])
def test_check_target_refuses_even_one_internal_address(url, reason, monkeypatch):
    with pytest.raises(PostbackRefused, match=reason):
        check_target(url, allow_private=False)
    check_target(url, allow_private=True)

    public = (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.215.14", 80))
    internal = (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.0.0.5", 80))
    monkeypatch.setattr(socket, "getaddrinfo", lambda *args, **kwargs: [public, internal])
    with pytest.raises(PostbackRefused, match="private address 10.0.0.5"):
        check_target("https://partner.example/pb", allow_private=False)
    monkeypatch.setattr(socket, "getaddrinfo", lambda *args, **kwargs: [public])
    check_target("https://partner.example/pb", allow_private=False)


def test_put_accepts_a_public_target(app, monkeypatch):
    public = (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.215.14", 443))
    monkeypatch.setattr(socket, "getaddrinfo", lambda *args, **kwargs: [public])
    partner = PartnerFactory()
    response = app.test_client().put(
        "/api/v1/postback",
        headers=auth("partner", partner_id=partner.id),
        json={"url_template": "https://partner.example/pb?c={click_id}"},
    )
    assert response.status_code == 200, response.json
    assert response.json["partner_id"] == partner.id and response.json["active"] is True


def test_delivery_to_an_internal_target_is_not_sent_and_says_why(app, receiver):
    partner = PartnerFactory()
    make_endpoint(partner, receiver.url + "/pb?o={order_id}")  # stored before the target was refused
    delivery = queued(partner)

    assert deliver_due() == 1

    assert receiver.requests == []
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("pending", 1, None)
    assert "refused" in delivery.last_error and "loopback address 127.0.0.1" in delivery.last_error


def test_a_redirect_is_not_followed(open_app, receiver):
    receiver.status, receiver.location = 302, receiver.url + "/inside"
    partner = PartnerFactory()
    make_endpoint(partner, receiver.url + "/pb")
    delivery = queued(partner)

    assert deliver_due() == 1

    assert receiver.paths == ["/pb"]
    assert (delivery.status, delivery.last_status_code) == ("pending", 302)
    assert "not followed" in delivery.last_error


def test_partner_reads_only_its_own_delivery_log(open_app, receiver):
    mine, theirs = PartnerFactory(), PartnerFactory()
    make_endpoint(mine, receiver.url + "/mine?o={order_id}")
    make_endpoint(theirs, receiver.url + "/theirs?o={order_id}")
    with time_machine.travel(T0, tick=False) as traveller:
        my_ids = []
        for minute in range(2):
            traveller.move_to(T0 + timedelta(minutes=minute))
            my_ids.append(queued(mine).id)
        their_id = queued(theirs).id
        deliver_due()
    client = open_app.test_client()

    def log(headers, **query):
        response = client.get("/api/v1/postback/deliveries", headers=headers, query_string=query)
        return response.status_code, [d["id"] for d in response.json.get("items", [])]

    my_key, their_key = auth("partner", partner_id=mine.id), auth("partner", partner_id=theirs.id)
    assert log(my_key) == (200, my_ids[::-1])  # newest first
    assert log(my_key, limit=1, offset=1) == (200, my_ids[:1])
    assert log(their_key) == (200, [their_id])
    assert log(their_key, partner_id=mine.id)[0] == 403
    assert log(auth("admin"), partner_id=mine.id) == (200, my_ids[::-1])
    assert log(auth("admin"))[0] == 422
    body = client.get("/api/v1/postback/deliveries", headers=my_key).json["items"][0]
    assert body["status"] == "delivered" and body["url"].startswith(receiver.url + "/mine?o=ORDER-")


def test_partner_sets_its_postback_and_sends_a_test(open_app, receiver):
    partner = PartnerFactory()
    client, key = open_app.test_client(), auth("partner", partner_id=partner.id)
    assert client.get("/api/v1/postback", headers=key).status_code == 404
    assert client.post("/api/v1/postback/test", json={}, headers=key).status_code == 404

    template = receiver.url + "/pb?o={order_id}&a={amount}&s1={sub1}"
    put = client.put("/api/v1/postback", json={"url_template": template}, headers=key)
    assert put.status_code == 200, put.json
    secret = put.json["secret"]
    assert len(secret) == 64 and client.get("/api/v1/postback", headers=key).json == put.json

    sent = client.post("/api/v1/postback/test", json={}, headers=key)

    # Answered before anything is sent: the partner's tracker has not been asked yet.
    assert sent.status_code == 202, sent.json
    assert (sent.json["kind"], sent.json["status"], sent.json["attempts"]) == ("test", "pending", 0)
    assert receiver.requests == []
    log = client.get("/api/v1/postback/deliveries", headers=key).json["items"]
    assert [(d["id"], d["status"]) for d in log] == [(sent.json["id"], "pending")]

    assert deliver_due() == 1

    [request] = receiver.requests
    assert request["path"] == "/pb?o=TEST-ORDER-1&a=12.34&s1=test-sub1"
    verify_signature(secret, request["headers"][SIGNATURE_HEADER], receiver.url + request["path"])
    [entry] = client.get("/api/v1/postback/deliveries", headers=key).json["items"]
    assert (entry["id"], entry["status"], entry["attempts"], entry["last_status_code"]) == (
        sent.json["id"],
        "delivered",
        1,
        200,
    )

    same = client.put("/api/v1/postback", json={"url_template": template, "active": False}, headers=key)
    assert (same.json["secret"], same.json["active"]) == (secret, False)
    rotated = client.put("/api/v1/postback", json={"url_template": template, "rotate_secret": True}, headers=key)
    assert rotated.json["secret"] != secret and rotated.json["id"] == put.json["id"]


def test_a_test_to_an_inactive_postback_is_refused_and_nothing_is_queued(open_app, receiver):
    partner = PartnerFactory()
    make_endpoint(partner, receiver.url + "/pb", active=False)

    sent = open_app.test_client().post("/api/v1/postback/test", json={}, headers=auth("partner", partner_id=partner.id))

    assert sent.status_code == 409, sent.json
    assert "inactive" in sent.json["error"] and "active=true" in sent.json["error"]
    assert db.session.query(PostbackDelivery).count() == 0
    assert deliver_due() == 0
    assert receiver.requests == []


def test_a_failed_test_is_reported_and_never_retried(open_app, receiver):
    receiver.fail_first = 1
    partner = PartnerFactory()
    make_endpoint(partner, receiver.url + "/pb")
    key = auth("partner", partner_id=partner.id)
    client = open_app.test_client()
    assert client.post("/api/v1/postback/test", json={}, headers=key).status_code == 202

    assert deliver_due() == 1

    [entry] = client.get("/api/v1/postback/deliveries", headers=key).json["items"]
    assert (entry["status"], entry["attempts"], entry["last_error"]) == ("failed", 1, "HTTP 500")
    with time_machine.travel(T0 + timedelta(days=1), tick=False):
        assert deliver_due() == 0
    assert len(receiver.requests) == 1


def test_put_refuses_bad_templates_with_a_reason(open_app):
    partner = PartnerFactory()
    response = open_app.test_client().put(
        "/api/v1/postback",
        json={"url_template": "https://partner.example/pb?x={clickid}"},
        headers=auth("partner", partner_id=partner.id),
    )
    assert response.status_code == 422
    assert "unknown macro(s) {clickid}" in response.json["error"]


@pytest.mark.parametrize(
    "template, reason",
    [
        ("ftp://partner.example/{click_id}", "absolute http or https"),
        ("/pb?c={click_id}", "absolute http or https"),
        ("https://partner.example/pb?c={click_id", "unmatched"),
        ("https://partner.example/pb?c={sub6}", "unknown macro"),
        ("https://{sub1}.partner.example/pb", "not in the host"),
        ("https://partner.example/pb?c={click_id} x", "spaces"),
    ],
)
def test_validate_template_explains_what_is_wrong(template, reason):
    with pytest.raises(ValueError, match=reason):
        validate_template(template)


def test_render_url_encodes_values_and_empties_missing_ones():
    template = validate_template("https://partner.example/pb/{event}?c={click_id}&s={sub1}")
    assert (
        render_url(template, {"event": "lead/1", "sub1": "ü?#"})
        == "https://partner.example/pb/lead%2F1?c=&s=%C3%BC%3F%23"
    )


@pytest.mark.parametrize(
    "amount_minor, currency, expected",
    [
        (1999, "EUR", "19.99"),
        (100, "USD", "1.00"),
        (5, "USD", "0.05"),
        (1999, "JPY", "1999"),
        (1999, "BHD", "1.999"),
        (None, None, ""),
    ],
)
def test_amount_is_rendered_in_major_units(amount_minor, currency, expected):
    assert format_amount(amount_minor, currency) == expected


@pytest.mark.parametrize("open_app", ["postgresql"], indirect=True)  # SKIP LOCKED is PostgreSQL's
def test_a_delivery_locked_by_another_worker_is_skipped(open_app, receiver):
    partner = PartnerFactory()
    make_endpoint(partner, receiver.url + "/pb")
    delivery = queued(partner)
    with db.engine.connect() as other_worker:
        other_worker.execute(select(PostbackDelivery.id).where(PostbackDelivery.id == delivery.id).with_for_update())
        assert deliver_due() == 0
        assert receiver.requests == []
        other_worker.rollback()
    assert deliver_due() == 1
    assert delivery.status == "delivered"
