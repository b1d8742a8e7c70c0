"""API for banners: each banner of an offer with its size and URL, and for a partner its ready embed code."""

from __future__ import annotations

from flask import Blueprint
from spectree import Response
from sqlalchemy import select

from core.api.auth import Principal, principal, require_roles
from core.api.errors import ApiError
from core.api.limits import INT_COLUMN_MAX
from core.api.openapi import ERRORS, api_spec
from core.db import db
from tracker.creatives.embed import embed_html, embed_markdown, link_with_subs
from tracker.creatives.files import banner_url
from tracker.creatives.models import Banner
from tracker.creatives.schemas import BannerList, BannerOut, BannerQuery, EmbedOut
from tracker.program.models import SUB_IDS, Link, Offer
from tracker.program.scopes import offers_visible_to
from tracker.services import tracker

bp = Blueprint("creatives_api", __name__, url_prefix="/api/v1")


def _visible_offer(who: Principal, wanted: str) -> Offer:
    """By slug, else by id; an offer the key may not see is as unknown as one that does not exist."""
    visible = offers_visible_to(who)
    offer = db.session.scalar(visible.where(Offer.slug == wanted))
    if offer is None and wanted.isdigit() and int(wanted) <= INT_COLUMN_MAX:
        offer = db.session.scalar(visible.where(Offer.id == int(wanted)))
    if offer is None:
        raise ApiError(404, f"offer {wanted!r} not found")
    return offer


def partner_link(who: Principal, offer: Offer) -> Link | None:
    """The partner's first link on the offer: the embed code carries it, never a link made up here."""
    if who.role != "partner":
        return None
    return db.session.scalar(
        select(Link).where(Link.partner_id == who.partner_id, Link.offer_id == offer.id).order_by(Link.id).limit(1)
    )


def _banner_out(banner: Banner, offer: Offer, link_url: str | None, link_code: str | None) -> BannerOut:
    url = banner_url(banner)
    embed = None
    if link_url is not None and link_code is not None:
        embed = EmbedOut(
            link_code=link_code,
            link_url=link_url,
            html=embed_html(link_url, url, offer.name, banner.width, banner.height),
            markdown=embed_markdown(link_url, url, offer.name),
        )
    return BannerOut(
        id=banner.id,
        name=banner.name,
        width=banner.width,
        height=banner.height,
        mime_type=banner.mime_type,
        url=url,
        embed=embed,
    )


@bp.get("/banners")
@require_roles("admin", "advertiser", "partner")
@api_spec.validate(query=BannerQuery, resp=Response(HTTP_200=BannerList, **ERRORS), tags=["banners"])
def list_banners(query: BannerQuery):
    """The offer's active banners; with a partner key each carries HTML and Markdown embed code around the
    partner's own link for the offer, with the sub-ids given (sub1..sub5)."""
    who = principal()
    offer = _visible_offer(who, query.offer)
    link = partner_link(who, offer)
    link_url, reason = None, None
    if who.role != "partner":
        reason = "embed code is made for a partner key, around that partner's own link"
    elif link is None:
        reason = f"you have no link on offer {offer.slug!r}; create one with POST /api/v1/links"
    else:
        base = tracker().settings.public_base_url
        link_url = link_with_subs(f"{base}/c/{link.code}", {name: getattr(query, name) for name in SUB_IDS})
    banners = db.session.scalars(
        select(Banner).where(Banner.offer_id == offer.id, Banner.active.is_(True)).order_by(Banner.id)
    )
    return BannerList(
        offer_id=offer.id,
        offer_slug=offer.slug,
        items=[_banner_out(b, offer, link_url, link.code if link else None) for b in banners],
        embed_unavailable=reason,
    )
