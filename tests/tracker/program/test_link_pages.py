"""/portal/links: a partner's own links, and the builder that creates links as POST /api/v1/links does."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import func, select

from core.db import db
from tests.core.people.conftest import cheap_hashes, compiled_catalogues, fresh_request_globals  # noqa: F401
from tests.core.people.helpers import form_token, make_person, sign_in
from tests.factories import LinkFactory, OfferFactory, PartnerFactory
from tracker.program.models import Link, Partner

PATH = "/portal/links"


def signed_in_partner(client, **values):
    person = make_person("partner", **values)
    sign_in(client, person.email)
    return person


def build(client, **values):
    data = {"offer_id": "", "sub1": "", "sub2": "", "sub3": "", "sub4": "", "sub5": "", "deep_link": "", **values}
    return client.post(PATH, data={**data, "csrf_token": form_token(client, PATH)})


def link_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Link))


def test_a_partner_builds_a_link_with_sub_ids_and_a_deep_link(app, client):
    offer = OfferFactory(name="Contoso CRM")
    person = signed_in_partner(client)
    page = client.get(PATH).get_data(as_text=True)
    assert 'href="/portal/links" aria-current="page"' in page and "Contoso CRM" in page

    response = build(
        client, offer_id=str(offer.id), sub1="newsletter", sub3="may", deep_link="https://docs.example/a?b=1"
    )
    assert response.status_code == 303
    link = db.session.scalar(select(Link))
    assert (link.partner_id, link.offer_id, link.sub1, link.sub2, link.sub3) == (
        person.partner_id,
        offer.id,
        "newsletter",
        None,
        "may",
    )
    assert response.headers["Location"].startswith(f"{PATH}?link={link.id}&to=https")

    shown = client.get(response.headers["Location"]).get_data(as_text=True)
    base = app.extensions["handoff.settings"].public_base_url
    assert f"{base}/c/{link.code}?to=https%3A%2F%2Fdocs.example%2Fa%3Fb%3D1" in shown
    assert 'id="copy-created-url"' in shown and f'id="link-{link.id}"' in shown


@pytest.mark.parametrize("app", ["sqlite"], indirect=True)
def test_the_built_url_sends_the_click_to_the_deep_link(app, client):
    offer = OfferFactory()
    signed_in_partner(client)
    location = build(client, offer_id=str(offer.id), deep_link="https://www.shop.example/pricing").headers["Location"]
    link = db.session.scalar(select(Link))
    deep = parse_qs(urlsplit(location).query)["to"][0]
    click = client.get(f"/c/{link.code}", query_string={"to": deep}, environ_base={"REMOTE_ADDR": "127.0.0.1"})
    assert click.status_code == 302 and click.headers["Location"].startswith("https://www.shop.example/pricing?atk=")


@pytest.mark.parametrize(
    ("deep_link", "message"),
    [
        ("https://evil.example/phish", "is not one of this offer&#39;s allowed hosts"),
        ("javascript:alert(1)", "must be an absolute http or https URL"),
        ("https://user:pw@docs.example/", "must not carry a user name or password"),
        ("https://<b>x</b>.example/", "&#39;&lt;b&gt;x&lt;&#39; is not one of this offer"),
    ],
)
@pytest.mark.parametrize("app", ["sqlite"], indirect=True)
def test_a_deep_link_off_the_offers_hosts_is_refused_next_to_its_field(app, client, deep_link, message):
    offer = OfferFactory()
    signed_in_partner(client)
    response = build(client, offer_id=str(offer.id), deep_link=deep_link)
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert '<p class="error" id="deep_link-error">deep link' in page and message in page
    assert "docs.example" in page.split('id="deep_link-error"')[1]  # the allowed hosts are named
    assert "<b>" not in page
    assert link_count() == 0


@pytest.mark.parametrize("app", ["sqlite"], indirect=True)
def test_bad_input_is_refused_and_nothing_is_written(app, client):
    offer = OfferFactory()
    paused = OfferFactory(status="paused")
    signed_in_partner(client)
    assert 'id="offer_id-error"' in build(client).get_data(as_text=True)
    assert build(client, offer_id=str(paused.id)).status_code == 400  # not an offer the partner may promote
    too_long = build(client, offer_id=str(offer.id), sub2="x" * 256)
    assert too_long.status_code == 400 and 'id="sub2-error"' in too_long.get_data(as_text=True)
    control = build(client, offer_id=str(offer.id), sub4="a\x07b")
    assert control.status_code == 400 and 'id="sub4-error"' in control.get_data(as_text=True)
    assert link_count() == 0


@pytest.mark.parametrize("app", ["sqlite"], indirect=True)
def test_another_partners_links_never_show_and_their_ids_are_404(app, client):
    theirs = LinkFactory(code="theirs01")
    person = signed_in_partner(client)
    LinkFactory(code="mine0001", partner=db.session.get(Partner, person.partner_id), offer=theirs.offer)
    page = client.get(PATH).get_data(as_text=True)
    assert "mine0001" in page and "theirs01" not in page
    assert client.get(f"{PATH}?link={theirs.id}").status_code == 404
    assert client.get(f"{PATH}?link=999999").status_code == 404


@pytest.mark.parametrize("app", ["sqlite"], indirect=True)
def test_a_hand_edited_deep_link_in_the_address_is_refused(app, client):
    person = signed_in_partner(client)
    link = LinkFactory(partner=db.session.get(Partner, person.partner_id))
    assert client.get(f"{PATH}?link={link.id}&to=https://evil.example/").status_code == 400
    assert client.get(f"{PATH}?link={link.id}&to=https://docs.example/").status_code == 200


@pytest.mark.parametrize("role", ["admin", "advertiser", "finance"])
@pytest.mark.parametrize("app", ["sqlite"], indirect=True)
def test_other_roles_get_403(app, client, role):
    offer = OfferFactory()
    person = make_person(role)
    sign_in(client, person.email)
    assert client.get(PATH).status_code == 403
    token = form_token(client, "/portal")
    assert client.post(PATH, data={"offer_id": str(offer.id), "csrf_token": token}).status_code == 403
    assert link_count() == 0


@pytest.mark.parametrize("app", ["sqlite"], indirect=True)
def test_anyone_not_signed_in_is_sent_to_sign_in(app, client):
    assert client.get(PATH).headers["Location"] == "/login?next=%2Fportal%2Flinks"


@pytest.mark.parametrize("app", ["sqlite"], indirect=True)
def test_a_post_without_its_token_is_refused(app, client):
    offer = OfferFactory()
    signed_in_partner(client)
    assert client.post(PATH, data={"offer_id": str(offer.id)}).status_code == 400
    assert link_count() == 0


@pytest.mark.parametrize("app", ["sqlite"], indirect=True)
def test_a_partner_with_no_offer_to_promote_is_told_so(app, client):
    OfferFactory(status="paused")
    signed_in_partner(client, partner_id=PartnerFactory().id)
    page = client.get(PATH).get_data(as_text=True)
    assert "There is no offer you can promote yet." in page and "No links yet." in page
