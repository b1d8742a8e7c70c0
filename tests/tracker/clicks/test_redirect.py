"""The partner link contract: where a click goes, what it carries, and what is refused."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select

from core.db import db
from tests.conftest import _build, _teardown, make_settings
from tests.factories import LinkFactory, OfferFactory
from tracker.clicks import refcodes, tokens
from tracker.program.models import Click
from tracker.services import tracker

CHROME = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36"
)


def follow(client, path, **headers):
    headers.setdefault("User-Agent", CHROME)
    return client.get(path, headers=headers, environ_base={"REMOTE_ADDR": "203.0.113.77"})


def only_click() -> Click:
    clicks = db.session.scalars(select(Click)).all()
    assert len(clicks) == 1
    return clicks[0]


def test_redirects_to_landing_with_signed_token_keeping_query_and_fragment(client):
    link = LinkFactory(code="acme1")
    response = follow(client, "/c/acme1")
    assert response.status_code == 302
    location = urlsplit(response.headers["Location"])
    assert (location.scheme, location.netloc, location.path) == ("https", "shop.example", "/landing")
    assert location.fragment == "top"
    query = parse_qs(location.query)
    assert query["utm_source"] == ["partners"]
    claims = tokens.verify_token(tracker().token_key, query["atk"][0])
    click = only_click()
    assert click.id == claims.click_id
    assert (click.link_id, click.partner_id, click.offer_id) == (link.id, link.partner_id, link.offer_id)
    assert click.traffic == "human" and click.is_unique


def test_offer_names_its_own_token_parameter(client):
    LinkFactory(code="acme2", offer=OfferFactory(token_param="hid"))
    query = parse_qs(urlsplit(follow(client, "/c/acme2").headers["Location"]).query)
    assert "hid" in query and "atk" not in query


@pytest.mark.parametrize(
    "deep_url",
    [
        "https://docs.example/guide?a=1&b=2",
        "https://eu.shop.example/pricing#plans",
        "https://shop.example/other",
    ],
)
def test_deep_link_to_allowed_host_is_followed(client, deep_url):
    LinkFactory(code="deep1")
    response = client.get("/c/deep1", query_string={"to": deep_url})
    assert response.status_code == 302
    location = response.headers["Location"]
    original = urlsplit(deep_url)
    target = urlsplit(location)
    assert (target.netloc, target.path, target.fragment) == (original.netloc, original.path, original.fragment)
    assert target.query.startswith(original.query)
    assert only_click().deep_link == deep_url


def test_deep_link_replaces_a_forwarded_token_instead_of_doubling_it(client):
    LinkFactory(code="deep2")
    response = client.get("/c/deep2", query_string={"to": "https://shop.example/p?atk=OLDTOKEN&x=1"})
    query = parse_qs(urlsplit(response.headers["Location"]).query)
    assert len(query["atk"]) == 1 and query["atk"][0] != "OLDTOKEN" and query["x"] == ["1"]


@pytest.mark.parametrize(
    "deep_url",
    [
        "https://evil.example/",
        "https://shop.example.evil.example/",
        "https://docs.example@evil.example/",
        "https://evilshop.example/",
        "javascript:alert(1)",
        "//evil.example/",
        "https://docs.example\\@evil.example/",
        "ftp://docs.example/file",
    ],
)
def test_deep_link_to_any_other_host_is_refused_never_redirected(client, deep_url):
    LinkFactory(code="deep3")
    response = client.get("/c/deep3", query_string={"to": deep_url})
    assert response.status_code == 400
    assert "Location" not in response.headers
    assert response.get_data(as_text=True).strip()
    assert db.session.scalars(select(Click)).all() == []


def test_unknown_code_is_404(client):
    response = client.get("/c/no-such-link")
    assert response.status_code == 404 and "unknown link" in response.get_data(as_text=True)


def test_paused_offer_goes_to_its_fallback_without_a_click(client):
    LinkFactory(code="paused1", offer=OfferFactory(status="paused", fallback_url="https://shop.example/"))
    response = client.get("/c/paused1")
    assert response.status_code == 302 and response.headers["Location"] == "https://shop.example/"
    assert db.session.scalars(select(Click)).all() == []


def test_paused_offer_without_fallback_is_gone(client):
    LinkFactory(code="paused2", offer=OfferFactory(status="paused"))
    assert client.get("/c/paused2").status_code == 410


def test_sub_ids_from_query_override_link_defaults(client):
    LinkFactory(code="subs1", sub1="newsletter", sub2="default2")
    follow(client, "/c/subs1?sub2=spring&sub5=x%20y")
    click = only_click()
    assert (click.sub1, click.sub2, click.sub3, click.sub5) == ("newsletter", "spring", None, "x y")


def test_overlong_sub_id_is_refused_with_reason(client):
    LinkFactory(code="subs2")
    response = client.get("/c/subs2", query_string={"sub3": "x" * 256})
    assert response.status_code == 400 and "sub3" in response.get_data(as_text=True)


def test_address_is_stored_truncated_never_raw(client):
    LinkFactory(code="ip1")
    follow(client, "/c/ip1")
    click = only_click()
    assert click.ip_prefix == "203.0.113.0/24"
    stored = " ".join(str(value) for value in db.session.execute(select(Click.__table__)).one())
    assert "203.0.113.77" not in stored


@pytest.mark.parametrize(
    "headers, expected",
    [
        ({"User-Agent": "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"}, "bot"),
        ({"User-Agent": "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)"}, "preview"),
        ({"User-Agent": CHROME, "Sec-Purpose": "prefetch;prerender"}, "prefetch"),
        ({"User-Agent": CHROME, "Purpose": "prefetch"}, "prefetch"),
    ],
)
def test_non_people_are_redirected_but_not_counted(client, headers, expected):
    LinkFactory(code="bot1")
    response = client.get("/c/bot1", headers=headers)
    assert response.status_code == 302 and "atk=" in response.headers["Location"]
    click = only_click()
    assert click.traffic == expected and not click.is_unique


def test_head_request_is_redirected_but_not_counted(client):
    LinkFactory(code="head1")
    response = client.head("/c/head1", headers={"User-Agent": CHROME})
    assert response.status_code == 302
    assert only_click().traffic == "head"


def test_device_os_and_browser_are_recorded(client):
    LinkFactory(code="dev1")
    follow(client, "/c/dev1")
    click = only_click()
    assert (click.device, click.os, click.browser) == ("desktop", "Windows", "Chrome")


def test_every_click_gets_a_stored_reference_code(client):
    LinkFactory(code="ref1")
    for _ in range(5):
        follow(client, "/c/ref1")
    codes = dict(db.session.execute(select(Click.id, Click.ref_code)).all())
    assert len(codes) == 5 == len(set(codes.values()))
    # Each is its click's first candidate, nine characters whose check character matches.
    key = tracker().refcode_key
    assert all(
        code == refcodes.code_for_click(key, click_id) == refcodes.normalize(code) for click_id, code in codes.items()
    )


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
@pytest.mark.parametrize(
    "proxies, stored",
    [
        (0, "10.1.2.0/24"),  # no proxy trusted: the header is the client's word, ignored
        (1, "203.0.113.0/24"),  # the one proxy appended the address it saw; the rest may be forged
        (2, "198.51.100.0/24"),
    ],
)
def test_x_forwarded_for_gives_the_address_only_through_trusted_proxies(backend, proxies, stored, tmp_path, request):
    database_url = (
        f"sqlite:///{tmp_path / 'handoff.db'}" if backend == "sqlite" else request.getfixturevalue("pg_schema_url")
    )
    app = _build(make_settings(database_url, tmp_path, trusted_proxy_count=proxies))
    try:
        with app.app_context():
            LinkFactory(code="proxied")
            response = app.test_client().get(
                "/c/proxied",
                headers={"User-Agent": CHROME, "X-Forwarded-For": "198.51.100.250, 203.0.113.9"},
                environ_base={"REMOTE_ADDR": "10.1.2.3"},
            )
            assert response.status_code == 302
            assert only_click().ip_prefix == stored
    finally:
        _teardown(app)
