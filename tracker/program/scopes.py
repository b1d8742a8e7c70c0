"""What each key may see: admins and finance see the program, advertisers their offers, partners themselves."""

from __future__ import annotations

from sqlalchemy import Select, select

from core.auth import Principal
from core.errors import ApiError
from tracker.program.models import Link, Offer, Partner


def offers_visible_to(who: Principal) -> Select:
    query = select(Offer)
    if who.role == "advertiser":
        query = query.where(Offer.advertiser_id == who.advertiser_id)
    elif who.role == "partner":
        query = query.where(Offer.status == "active")
    return query


def partners_visible_to(who: Principal) -> Select:
    query = select(Partner)
    if who.role == "partner":
        # A distributor sees its resellers; a reseller sees only itself.
        query = query.where((Partner.id == who.partner_id) | (Partner.parent_id == who.partner_id))
    return query


def links_visible_to(who: Principal) -> Select:
    query = select(Link)
    if who.role == "partner":
        query = query.where(Link.partner_id == who.partner_id)
    elif who.role == "advertiser":
        query = query.join(Offer, Link.offer_id == Offer.id).where(Offer.advertiser_id == who.advertiser_id)
    return query


def owned_advertiser_id(who: Principal, requested: int | None) -> int:
    """The advertiser a new offer belongs to: the key's own, or the one an admin names."""
    if who.role == "advertiser":
        if requested not in (None, who.advertiser_id):
            raise ApiError(403, "an advertiser key creates offers only for its own advertiser")
        return who.advertiser_id
    if requested is None:
        raise ApiError(422, "advertiser_id is required with an admin key")
    return requested


def owned_partner_id(who: Principal, requested: int | None) -> int:
    """The partner a new link belongs to: a partner key creates links only for itself."""
    if who.role == "partner":
        if requested not in (None, who.partner_id):
            raise ApiError(403, "a partner key creates links only for its own partner")
        return who.partner_id
    if requested is None:
        raise ApiError(422, "partner_id is required with an admin key")
    return requested
