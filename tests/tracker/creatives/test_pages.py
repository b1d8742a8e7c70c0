"""/portal/banners: each promotable offer's banners, with embed code around the partner's own link only."""

from __future__ import annotations

import pytest
from markupsafe import escape

from tests.core.people.conftest import cheap_hashes, compiled_catalogues, fresh_request_globals  # noqa: F401
from tests.core.people.helpers import make_person, sign_in
from tests.factories import LinkFactory, OfferFactory, PartnerFactory
from tests.tracker.creatives.test_banners import make_banner
from tracker.creatives.embed import embed_html, embed_markdown
from tracker.creatives.files import banner_url

PATH = "/portal/banners"


def signed_in_partner(client, partner):
    sign_in(client, make_person("partner", partner_id=partner.id).email)


def test_embed_code_carries_the_partners_own_link_and_chosen_sub_ids(app, client):
    offer = OfferFactory(name="Contoso CRM", slug="contoso")
    other_offer = OfferFactory(name="Fabrikam Books")
    hidden = OfferFactory(name="Paused Offer", status="paused")
    mine = LinkFactory(code="mine0001", offer=offer)
    LinkFactory(code="theirs01", offer=offer)  # another partner's link on the same offer
    banner, tall = make_banner(offer), make_banner(offer, 160, 600)
    make_banner(other_offer)
    make_banner(hidden)
    signed_in_partner(client, mine.partner)

    page = client.get(PATH, query_string={"sub1": "newsletter", "sub3": "may"}).get_data(as_text=True)
    base = app.extensions["handoff.settings"].public_base_url
    link_url = f"{base}/c/mine0001?sub1=newsletter&sub3=may"
    # Exactly what GET /api/v1/banners gives this partner's key, escaped once more for the page.
    assert escape(embed_html(link_url, banner_url(banner), "Contoso CRM", 300, 250)) in page
    assert escape(embed_markdown(link_url, banner_url(tall), "Contoso CRM")) in page
    assert 'href="/portal/banners" aria-current="page"' in page and "160 × 600 px" in page
    assert "theirs01" not in page and "Paused Offer" not in page
    assert "Fabrikam Books" in page and "You have no link on this offer yet" in page
    assert page.count('data-copy="html-') == 2 and page.count('data-copy="markdown-') == 2


@pytest.mark.parametrize("app", ["sqlite"], indirect=True)
def test_bad_sub_ids_are_refused_next_to_their_field(app, client):
    link = LinkFactory()
    make_banner(link.offer)
    signed_in_partner(client, link.partner)
    response = client.get(PATH, query_string={"sub2": "x" * 256, "sub4": "a\x07b"})
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert 'id="sub2-error"' in page and 'id="sub4-error"' in page and "control character" in page
    assert f"/c/{link.code}?" not in page  # the embed code carries none of what was refused


@pytest.mark.parametrize("app", ["sqlite"], indirect=True)
def test_a_partner_with_no_offer_to_promote_is_told_so(app, client):
    signed_in_partner(client, PartnerFactory())
    assert "There is no offer you can promote yet." in client.get(PATH).get_data(as_text=True)


@pytest.mark.parametrize("role", ["admin", "advertiser", "finance"])
@pytest.mark.parametrize("app", ["sqlite"], indirect=True)
def test_other_roles_get_403(app, client, role):
    sign_in(client, make_person(role).email)
    assert client.get(PATH).status_code == 403


@pytest.mark.parametrize("app", ["sqlite"], indirect=True)
def test_anyone_not_signed_in_is_sent_to_sign_in(app, client):
    assert client.get(PATH).headers["Location"] == "/login?next=%2Fportal%2Fbanners"
