"""Unknown link codes per /24 (or /48): a scan of guessed codes is slowed; a known code never meets the limiter."""

from __future__ import annotations

from core.api.ratelimits import RateLimits
from tests.factories import LinkFactory
from tests.tracker.helpers import click

LIMIT = 3  # SMALL_RATE_LIMITS' unknown links per hour


def follow(client, code, address):
    return client.get(f"/c/{code}", environ_base={"REMOTE_ADDR": address})


def test_unknown_codes_from_one_network_are_refused_with_retry_after_while_another_network_passes(limited_app):
    LinkFactory(code="real-1")
    client = limited_app.test_client()
    for number in range(LIMIT):
        assert follow(client, f"guess-{number}", f"198.51.100.{number + 1}").status_code == 404
    refused = follow(client, "guess-x", "198.51.100.200")
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["Retry-After"]) <= 3600
    assert follow(client, "guess-x", "203.0.113.5").status_code == 404
    # The network past its limit still follows real links.
    click(client, "real-1", address="198.51.100.200")


def test_ipv6_addresses_are_counted_per_48(limited_app):
    client = limited_app.test_client()
    for number in range(LIMIT):
        assert follow(client, "guess", f"2001:db8:1:{number}::1").status_code == 404
    assert follow(client, "guess", "2001:db8:1:ffff::9").status_code == 429
    assert follow(client, "guess", "2001:db8:2::1").status_code == 404


def test_a_known_code_never_touches_the_limiter(limited_app, monkeypatch):
    LinkFactory(code="real-2")
    client = limited_app.test_client()

    def no_limiter(*args, **kwargs):
        raise AssertionError("the limiter was asked about a known link")

    monkeypatch.setattr(RateLimits, "hit", no_limiter)
    monkeypatch.setattr(RateLimits, "exceeded", no_limiter)
    for _ in range(LIMIT * 3):
        click(client, "real-2", address="192.0.2.77")
    monkeypatch.undo()
    assert follow(client, "guess", "192.0.2.77").status_code == 404  # and none of those clicks was counted
