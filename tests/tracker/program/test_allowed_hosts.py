"""An offer's allowed hosts are someone's own: never a public suffix nor a wildcard over one.

``*.com`` would make the tracking domain an open redirect that hands the click token to any site. The
check reads the Public Suffix List shipped inside the publicsuffixlist package, never the network.
"""

from __future__ import annotations

import socket

import pytest

from tests.factories import AdvertiserFactory, LinkFactory, OfferFactory, PartnerFactory, auth
from tracker.attribution.customers import InvalidCustomer, normalize_domain
from tracker.program import hosts
from tracker.program.links import host_allowed

PUBLIC_SUFFIXES = ["*.com", "com", "*.co.uk", "co.uk", "*.github.io", "github.io", "*.xn--p1ai", "*.рф", "*.foo.ck"]
TOP_LEVEL_WILDCARDS = ["*.localhost", "*.example", "*.internal"]
NOT_HOSTS = [
    "exa%6dple.com",
    "%2A.example.com",
    "example.com\n",
    "exa\x00mple.com",
    "\texample.com",
    "shop.example\x7f",
]
OWN_HOSTS = ["example.com", "*.example.com", "*.acme.co.uk", "acme.co.uk", "*.acme.github.io", "localhost"]


def new_offer(client, headers, allowed_hosts):
    return client.post(
        "/api/v1/offers",
        headers=headers,
        json={
            "name": "Docs",
            "slug": "docs-offer",
            "landing_url": "https://acme.example/",
            "allowed_hosts": allowed_hosts,
        },
    )


def refused_host(response, host: str) -> str:
    assert response.status_code == 422, response.get_json()
    body = response.get_json()
    assert body["status"] == 422 and body["details"][0]["field"].startswith("allowed_hosts")
    assert repr(host) in body["error"] or host in body["error"]
    return body["error"]


@pytest.mark.parametrize("host", PUBLIC_SUFFIXES + TOP_LEVEL_WILDCARDS)
def test_an_offer_cannot_be_created_with_a_public_suffix(app, host):
    advertiser = AdvertiserFactory()
    response = new_offer(
        app.test_client(), auth("advertiser", advertiser_id=advertiser.id), ["docs.acme.example", host]
    )
    reason = refused_host(response, hosts.host_name(host))
    assert "public suffix" in reason


@pytest.mark.parametrize("host", PUBLIC_SUFFIXES)
def test_an_offer_cannot_be_patched_to_a_public_suffix(app, host):
    offer = OfferFactory()
    response = app.test_client().patch(
        f"/api/v1/offers/{offer.id}",
        headers=auth("advertiser", advertiser_id=offer.advertiser_id),
        json={"allowed_hosts": [host]},
    )
    refused_host(response, hosts.host_name(host))


@pytest.mark.parametrize("value", NOT_HOSTS)
def test_percent_signs_and_control_characters_are_not_host_names(app, value):
    response = new_offer(app.test_client(), auth("admin"), [value])
    assert response.status_code == 422
    assert response.get_json()["details"][0]["field"].startswith("allowed_hosts")
    with pytest.raises(ValueError, match="holds '%' or a control character"):
        hosts.host_name(value)


def test_own_domains_are_accepted(app):
    advertiser = AdvertiserFactory()
    response = new_offer(app.test_client(), auth("advertiser", advertiser_id=advertiser.id), OWN_HOSTS)
    assert response.status_code == 201, response.get_json()
    assert response.json["allowed_hosts"] == OWN_HOSTS


@pytest.mark.parametrize(
    "pattern, host",
    [("*.com", "evil.com"), ("*.github.io", "attacker.github.io"), ("*.co.uk", "evil.co.uk"), ("*.ck", "a.b.ck")],
)
def test_a_stored_wildcard_over_a_public_suffix_matches_nothing(client, pattern, host):
    """Offers saved before the check may hold such a pattern; a deep link under it is refused all the same."""
    offer = OfferFactory(allowed_hosts=[pattern, "*.shop.example"])
    LinkFactory(code="stored-wild", offer=offer, partner=PartnerFactory())
    refused = client.get("/c/stored-wild", query_string={"to": f"https://{host}/login"})
    assert refused.status_code == 400 and "Location" not in refused.headers
    followed = client.get("/c/stored-wild", query_string={"to": "https://eu.shop.example/pricing"})
    assert followed.status_code == 302 and followed.headers["Location"].startswith("https://eu.shop.example/pricing")


def test_host_allowed_ignores_wildcards_over_public_suffixes():
    assert not host_allowed("evil.com", frozenset({"*.com"}))
    assert not host_allowed("x.evil.co.uk", frozenset({"*.co.uk"}))
    assert not host_allowed("a.example", frozenset({"*.example"}))
    assert host_allowed("a.b.acme.co.uk", frozenset({"*.acme.co.uk"}))
    assert host_allowed("blog.acme.github.io", frozenset({"*.acme.github.io"}))
    assert host_allowed("com", frozenset({"com"}))  # an exact entry names one host, never a family


def test_a_deep_link_host_with_a_percent_sign_is_refused(client):
    LinkFactory(code="pct-host", offer=OfferFactory(allowed_hosts=["*.shop.example"]))
    response = client.get("/c/pct-host", query_string={"to": "https://evil.com%2f.shop.example/"})
    assert response.status_code == 400 and "Location" not in response.headers


@pytest.mark.parametrize("domain", ["co.uk", "github.io", "com", "https://www.co.uk/", "foo.ck"])
def test_a_customer_company_domain_is_never_a_bare_public_suffix(domain):
    with pytest.raises(InvalidCustomer, match="not a registrable domain"):
        normalize_domain(domain)


@pytest.mark.parametrize(
    "domain, expected",
    [
        ("acme.co.uk", "acme.co.uk"),
        ("https://www.Acme.co.uk/about", "acme.co.uk"),
        ("acme.github.io", "acme.github.io"),
    ],
)
def test_a_customer_company_domain_may_be_a_registrable_domain(domain, expected):
    assert normalize_domain(domain) == expected


def test_a_deal_registration_for_a_public_suffix_is_refused(app):
    offer, partner = OfferFactory(), PartnerFactory()
    client = app.test_client()
    headers = auth("partner", partner_id=partner.id)
    refused = client.post(
        "/api/v1/deal-registrations", headers=headers, json={"offer_id": offer.id, "company_domain": "co.uk"}
    )
    assert refused.status_code == 422 and "not a registrable domain" in refused.json["error"]
    accepted = client.post(
        "/api/v1/deal-registrations", headers=headers, json={"offer_id": offer.id, "company_domain": "acme.co.uk"}
    )
    assert accepted.status_code == 201 and accepted.json["key_value"] == "acme.co.uk"


def test_the_suffix_list_is_read_from_the_package_without_the_network(monkeypatch):
    def no_network(*args, **kwargs):
        raise AssertionError("the Public Suffix List must not be fetched")

    monkeypatch.setattr(socket, "socket", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    hosts._suffix_list.cache_clear()
    try:
        assert hosts.is_public_suffix("co.uk") and hosts.is_public_suffix("github.io")
        assert not hosts.is_public_suffix("acme.co.uk")
    finally:
        hosts._suffix_list.cache_clear()
