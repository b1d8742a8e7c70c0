"""Banners: the API per role and scope, embed code around the partner's own link, and the files' headers."""

from __future__ import annotations

import hashlib
import html
import json
from pathlib import Path

import pytest
from sqlalchemy import select

from core.db import db
from tests.factories import AdvertiserFactory, LinkFactory, OfferFactory, PartnerFactory, auth, expect
from tracker.creatives.files import IMMUTABLE, SAMPLE_SIZES, SVG_POLICY
from tracker.creatives.models import Banner
from tracker.program.models import Offer

BANNER_FOLDER = Path(__file__).resolve().parents[3] / "static" / "banners"


def make_banner(offer: Offer, width: int = 300, height: int = 250, active: bool = True) -> Banner:
    banner = Banner(
        offer_id=offer.id,
        name=f"{offer.name} {width}x{height}",
        width=width,
        height=height,
        mime_type="image/svg+xml",
        file_name=f"{offer.slug}-{width}x{height}.svg",
        sha256="ab" * 32,
        active=active,
        created_by="test",
    )
    db.session.add(banner)
    db.session.commit()
    return banner


def banners(client, headers, offer, **query):
    return client.get("/api/v1/banners", query_string={"offer": offer, **query}, headers=headers)


def test_partner_gets_embed_code_around_its_own_link_with_sub_ids(app):
    offer = OfferFactory()
    banner = make_banner(offer)
    make_banner(offer, 728, 90, active=False)
    mine = LinkFactory(offer=offer, code="mine01")
    LinkFactory(offer=offer, code="theirs01")
    client = app.test_client()

    answer = expect(
        banners(client, auth("partner", partner_id=mine.partner_id), offer.slug, sub1="spring", sub2="a b&c"), 200
    )

    assert (answer["offer_id"], answer["offer_slug"], answer["embed_unavailable"]) == (offer.id, offer.slug, None)
    [item] = answer["items"]  # the inactive banner is not offered
    image_url = f"http://handoff.test/banners/{banner.file_name}?v={'ab' * 8}"
    assert item | {"embed": None} == {
        "id": banner.id,
        "name": banner.name,
        "width": 300,
        "height": 250,
        "mime_type": "image/svg+xml",
        "url": image_url,
        "embed": None,
    }
    link_url = "http://handoff.test/c/mine01?sub1=spring&sub2=a+b%26c"
    assert item["embed"] == {
        "link_code": "mine01",
        "link_url": link_url,
        "html": f'<a href="{html.escape(link_url)}" rel="sponsored noopener" target="_blank">'
        f'<img src="{image_url}" width="300" height="250" alt="{offer.name}"></a>',
        "markdown": f"[![{offer.name}]({image_url})]({link_url})",
    }
    assert "theirs01" not in json.dumps(answer)


def test_offer_is_found_by_id_as_well_as_slug(app):
    offer = OfferFactory()
    make_banner(offer)
    answer = expect(banners(app.test_client(), auth("admin"), str(offer.id)), 200)
    assert answer["offer_slug"] == offer.slug
    assert len(answer["items"]) == 1


def test_hostile_offer_name_is_escaped_in_html_and_markdown(app):
    hostile = 'Best "deal"><script>alert(1)</script>](javascript:alert(1)) & <b>'
    offer = OfferFactory(name=hostile)
    make_banner(offer)
    link = LinkFactory(offer=offer)
    embed = expect(banners(app.test_client(), auth("partner", partner_id=link.partner_id), offer.slug), 200)["items"][
        0
    ]["embed"]

    assert "<script" not in embed["html"] and "<b>" not in embed["html"]
    assert f'alt="{html.escape(hostile)}"' in embed["html"]
    assert embed["html"].count("<a ") == 1 and embed["html"].count("<img ") == 1
    # Markdown: the alt text cannot close the image early, and no raw HTML survives.
    alt = embed["markdown"][3 : embed["markdown"].index("](http://handoff.test/banners/")]
    assert "<" not in alt.replace("\\<", "") and "](" not in alt.replace("\\]\\(", "")
    assert embed["markdown"].endswith(f"](http://handoff.test/c/{link.code})")


def test_partner_without_a_link_gets_banners_and_the_reason_instead_of_embed_code(app):
    offer = OfferFactory()
    make_banner(offer)
    partner = PartnerFactory()
    answer = expect(banners(app.test_client(), auth("partner", partner_id=partner.id), offer.slug), 200)
    assert [item["embed"] for item in answer["items"]] == [None]
    assert "no link on offer" in answer["embed_unavailable"]


@pytest.mark.parametrize("role", ["admin", "advertiser"])
def test_admin_and_owning_advertiser_see_banners_without_embed_code(app, role):
    offer = OfferFactory()
    make_banner(offer)
    scope = {"advertiser_id": offer.advertiser_id} if role == "advertiser" else {}
    answer = expect(banners(app.test_client(), auth(role, **scope), offer.slug), 200)
    assert [item["embed"] for item in answer["items"]] == [None]
    assert "partner key" in answer["embed_unavailable"]


def test_scoping_another_advertisers_offer_a_paused_offer_and_an_unknown_one_are_404(app):
    offer, paused = OfferFactory(), OfferFactory(status="paused")
    make_banner(offer)
    make_banner(paused)
    client = app.test_client()
    rival = auth("advertiser", advertiser_id=AdvertiserFactory().id)
    partner = auth("partner", partner_id=LinkFactory(offer=paused).partner_id)

    for headers, wanted in [(rival, offer.slug), (rival, str(offer.id)), (partner, paused.slug)]:
        assert expect(banners(client, headers, wanted), 404)["error"]
    assert expect(banners(client, auth("admin"), "no-such-offer"), 404)["error"]
    assert expect(banners(client, auth("admin"), "99999999999999999999"), 404)["error"]
    # Finance keeps the books; creatives are not its business.
    assert banners(client, auth("finance"), offer.slug).status_code == 403
    assert banners(client, {}, offer.slug).status_code == 401


@pytest.mark.parametrize("bad", [{"sub1": "x" * 256}, {"sub3": "line\nbreak"}, {"sub6": "x"}])
def test_bad_sub_ids_are_refused_with_the_error_schema(app, bad):
    offer = OfferFactory()
    link = LinkFactory(offer=offer)
    body = expect(banners(app.test_client(), auth("partner", partner_id=link.partner_id), offer.slug, **bad), 422)
    assert body["error"] and any(next(iter(bad)) in detail["field"] for detail in body["details"])


@pytest.mark.parametrize(("width", "height"), SAMPLE_SIZES)
def test_sample_files_are_served_immutable_with_their_type_and_a_strict_policy(app, width, height):
    name = f"demo-crm-{width}x{height}.svg"
    response = app.test_client().get(f"/banners/{name}?v=0123")
    assert response.status_code == 200
    assert response.mimetype == "image/svg+xml"
    assert response.headers["Cache-Control"] == IMMUTABLE
    assert response.headers["Content-Security-Policy"] == SVG_POLICY
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    body = response.get_data(as_text=True)
    assert f'width="{width}" height="{height}"' in body
    assert "<script" not in body and "href=" not in body and "url(http" not in body


@pytest.mark.parametrize("path", ["/banners/missing.svg", "/banners/demo-crm.txt", "/banners/..%2Fapp.py"])
def test_unknown_or_foreign_files_are_not_served(app, path):
    assert app.test_client().get(path).status_code == 404


def test_demo_creates_the_four_sample_banners_once_and_partners_get_their_embed_code(app):
    def run_demo() -> dict:
        result = app.test_cli_runner().invoke(args=["demo", "--json"])
        assert result.exit_code == 0, result.output
        return json.loads(result.output)

    run_demo()
    summary = run_demo()
    rows = db.session.scalars(select(Banner).order_by(Banner.id)).all()
    assert [(b.width, b.height) for b in rows] == list(SAMPLE_SIZES)
    assert summary["offer"]["banners"] == 4
    for banner in rows:
        assert banner.sha256 == hashlib.sha256((BANNER_FOLDER / banner.file_name).read_bytes()).hexdigest()
    affiliate = next(p for p in summary["partners"] if p["link_code"] == "demo-aff")
    answer = expect(
        banners(app.test_client(), {"Authorization": f"Bearer {affiliate['key']}"}, "demo-crm", sub1="blog"), 200
    )
    assert len(answer["items"]) == 4
    assert all("/c/demo-aff?sub1=blog" in item["embed"]["html"] for item in answer["items"])
    for item in answer["items"]:
        path = item["url"].removeprefix(summary["base_url"])
        assert app.test_client().get(path).status_code == 200
