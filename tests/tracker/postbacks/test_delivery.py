"""Postback delivery under a slow or tricky partner: one deadline per attempt, slow hosts kept apart,
and the connection made to the address that was checked."""

from __future__ import annotations

import socket
import ssl
from datetime import timedelta

import pytest
import trustme

from tests.factories import PartnerFactory
from tests.tracker.postbacks.helpers import T0, Dripper, Receiver, make_endpoint, queued
from tracker.postbacks import transport
from tracker.postbacks.delivery import PER_HOST, deliver_due


@pytest.fixture
def dripper():
    dripper = Dripper()
    dripper.start()
    yield dripper
    dripper.stop()


def test_a_dripping_answer_is_cut_off_at_the_deadline_and_retried(short_deadline_app, dripper):
    partner = PartnerFactory()
    make_endpoint(partner, dripper.url + "/pb")
    delivery = queued(partner)

    assert deliver_due() == 1

    assert dripper.asked == 1
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("pending", 1, None)
    assert delivery.last_error == "no complete answer within 2 s"
    assert delivery.next_attempt_at == T0 + timedelta(seconds=30)


def test_a_slow_host_holds_its_own_slots_only(short_deadline_app, dripper, receiver):
    slow, also_slow, fast = PartnerFactory(), PartnerFactory(), PartnerFactory()
    for partner, url in ((slow, dripper.url), (also_slow, dripper.url), (fast, receiver.url)):
        make_endpoint(partner, url + "/pb?o={order_id}")
    backlog = [queued(slow) for _ in range(PER_HOST + 1)]
    same_host = queued(also_slow)
    fast_one = queued(fast)
    # The fast host answers only once both slow attempts are waiting, and notes how many still are.
    receiver.gate = lambda: dripper.wait_until_asked(PER_HOST) and dripper.open_connections()

    # Room for PER_HOST + 2: the slow partner's backlog must not fill the round's scan.
    assert deliver_due(limit=PER_HOST + 2) == PER_HOST + 1

    assert (fast_one.status, fast_one.last_status_code) == ("delivered", 200)
    [request] = receiver.requests
    assert request["gate"] == PER_HOST  # answered while both slow attempts were still waiting
    assert len(dripper.connections) == PER_HOST  # another partner on the slow host waits too
    assert [(d.status, d.attempts, d.last_error) for d in backlog[:PER_HOST]] == [
        ("pending", 1, "no complete answer within 2 s")
    ] * PER_HOST
    for waiting in (backlog[PER_HOST], same_host):
        assert (waiting.status, waiting.attempts, waiting.next_attempt_at) == ("pending", 0, T0)  # the next round's


@pytest.fixture
def impostor(receiver):
    """A second tracker on the same port of another loopback address: where a re-resolved name would lead."""
    impostor = Receiver("127.0.0.2", receiver.port)
    thread = impostor.start()
    yield impostor
    impostor.stop(thread)


def test_the_connection_goes_to_the_address_that_was_checked(open_app, receiver, impostor, monkeypatch):
    real_getaddrinfo = socket.getaddrinfo
    answers = iter(["127.0.0.1", "127.0.0.2"])
    asked = []

    def rebinding_dns(host, port, *args, **kwargs):
        if host != "partner.test":
            return real_getaddrinfo(host, port, *args, **kwargs)
        asked.append(host)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (next(answers), port))]

    monkeypatch.setattr(socket, "getaddrinfo", rebinding_dns)
    partner = PartnerFactory()
    make_endpoint(partner, f"http://partner.test:{receiver.port}/pb")
    delivery = queued(partner)

    assert deliver_due() == 1

    assert impostor.requests == []
    assert delivery.status == "delivered"
    [request] = receiver.requests
    assert request["headers"]["Host"] == f"partner.test:{receiver.port}"
    assert asked == ["partner.test"]


@pytest.fixture
def partner_test_tls(monkeypatch):
    """``partner.test`` resolves to loopback and a test CA is trusted; yields (CA, SNI names the server saw)."""
    real_getaddrinfo = socket.getaddrinfo

    def resolve(host, port, *args, **kwargs):
        if host == "partner.test":
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port))]
        return real_getaddrinfo(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    ca = trustme.CA()
    trusting = ssl.create_default_context()
    ca.configure_trust(trusting)
    monkeypatch.setattr(transport, "tls_context", lambda: trusting)
    return ca


def tls_receiver(ca, certified_name: str, server_names: list):
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ca.issue_cert(certified_name).configure_cert(context)
    context.sni_callback = lambda _sock, name, _context: server_names.append(name)
    receiver = Receiver(tls=context)
    return receiver, receiver.start()


@pytest.mark.parametrize(
    "certified_name, delivered", [("partner.test", True), ("127.0.0.1", False), ("other.test", False)]
)
def test_https_names_the_original_host_for_sni_and_the_certificate(
    open_app, partner_test_tls, certified_name, delivered
):
    server_names: list[str] = []
    receiver, thread = tls_receiver(partner_test_tls, certified_name, server_names)
    try:
        partner = PartnerFactory()
        make_endpoint(partner, f"https://partner.test:{receiver.port}/pb")
        delivery = queued(partner)

        assert deliver_due() == 1
    finally:
        receiver.stop(thread)

    assert server_names == ["partner.test"]
    if delivered:
        assert delivery.status == "delivered"
        assert receiver.requests[0]["headers"]["Host"] == f"partner.test:{receiver.port}"
    else:
        assert (delivery.status, delivery.attempts) == ("pending", 1)
        assert "SSLCertVerificationError" in delivery.last_error and "partner.test" in delivery.last_error
        assert receiver.requests == []
