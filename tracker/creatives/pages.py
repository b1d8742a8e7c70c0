"""The partner's banner gallery: each offer's banners with embed code carrying the partner's own link.

The embed code is made as GET /api/v1/banners makes it for a partner key: around the partner's first link
on the offer (tracker.creatives.api.partner_link), with the sub-ids the partner chose.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from flask import Blueprint, Flask, render_template, request
from flask_babel import lazy_gettext as _l
from pydantic import ValidationError
from sqlalchemy import select

from core.api.auth import Principal
from core.db import db
from core.people.access import require_person
from core.people.navigation import add_portal_page
from tracker.creatives.api import partner_link
from tracker.creatives.embed import embed_html, embed_markdown, link_with_subs
from tracker.creatives.files import banner_url
from tracker.creatives.models import Banner
from tracker.creatives.schemas import BannerQuery
from tracker.program.link_pages import promotable_offers
from tracker.program.models import SUB_IDS, Link, Offer
from tracker.program.partner_portal import field_errors, partner_principal
from tracker.services import tracker

bp = Blueprint("banner_pages", __name__)
PATH = "/portal/banners"
# BannerQuery names an offer; the page checks the sub-ids once for all offers, so any valid name will do.
ANY_OFFER = "all"


@dataclass(frozen=True)
class BannerCode:
    banner: Banner
    preview_src: str
    html: str | None
    markdown: str | None


@dataclass(frozen=True)
class OfferBanners:
    offer: Offer
    link: Link | None
    link_url: str | None
    banners: list[BannerCode]


def _preview_src(url: str) -> str:
    """The banner's own path: the preview loads from the site showing the page, the embed code keeps the full URL."""
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}" if parts.query else parts.path


def _banner_code(banner: Banner, offer: Offer, link_url: str | None) -> BannerCode:
    url = banner_url(banner)
    if link_url is None:
        return BannerCode(banner, _preview_src(url), None, None)
    return BannerCode(
        banner,
        _preview_src(url),
        embed_html(link_url, url, offer.name, banner.width, banner.height),
        embed_markdown(link_url, url, offer.name),
    )


def _offer_banners(who: Principal, offer: Offer, subs: dict[str, str | None]) -> OfferBanners:
    link = partner_link(who, offer)
    link_url = None
    if link is not None:
        link_url = link_with_subs(f"{tracker().settings.public_base_url}/c/{link.code}", subs)
    banners = db.session.scalars(
        select(Banner).where(Banner.offer_id == offer.id, Banner.active.is_(True)).order_by(Banner.id)
    )
    return OfferBanners(offer, link, link_url, [_banner_code(banner, offer, link_url) for banner in banners])


def _chosen_subs() -> tuple[dict[str, str | None], dict[str, str]]:
    """The sub-ids in the address, checked by the API's own schema, and its message for each one refused."""
    subs = {name: request.args.get(name, "").strip() or None for name in SUB_IDS}
    try:
        BannerQuery.model_validate({"offer": ANY_OFFER, **subs})
    except ValidationError as invalid:
        return dict.fromkeys(SUB_IDS), field_errors(invalid)
    return subs, {}


@bp.get(PATH)
@require_person("partner")
def banners() -> tuple[str, int]:
    who = partner_principal()
    subs, errors = _chosen_subs()
    gallery = [_offer_banners(who, offer, subs) for offer in promotable_offers(who)]
    values = {name: request.args.get(name, "") for name in SUB_IDS}
    page = render_template("partner/banners.html", gallery=gallery, values=values, errors=errors, sub_ids=SUB_IDS)
    return page, 400 if errors else 200


def register(app: Flask) -> None:
    """The blueprint and this module's entries in the portal menu (core.people.navigation.add_portal_page)."""
    app.register_blueprint(bp)
    add_portal_page(app, "partner", PATH, _l("Banners"), order=30)
