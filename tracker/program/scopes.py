"""What each key may see and own: admins and finance the whole program, advertisers their offers and what
happens on them, partners themselves.

Every API that reads or writes partner or offer data asks here, so a key's reach is decided in one place.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, select

from core.api.auth import Principal
from core.api.errors import ApiError
from tracker.attribution.models import Conversion
from tracker.program.models import Advertiser, Link, Offer, Partner


def scoped(statement: Select, who: Principal, partner_column: Any, offer_column: Any) -> Select:
    """``statement`` narrowed to the rows the key may read: a partner key its own (``partner_column``), an
    advertiser key those on its offers (``offer_column``), admin and finance keys all of them."""
    if who.role == "partner":
        return statement.where(partner_column == who.partner_id)
    if who.role == "advertiser":
        return statement.where(offer_column.in_(select(Offer.id).where(Offer.advertiser_id == who.advertiser_id)))
    return statement


def advertisers_visible_to(who: Principal) -> Select:
    query = select(Advertiser)
    if who.role == "advertiser":
        query = query.where(Advertiser.id == who.advertiser_id)
    return query


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
    elif who.role == "advertiser":
        # Those who work on its offers: a link on one, or a conversion attributed on one without a link.
        own_offers = select(Offer.id).where(Offer.advertiser_id == who.advertiser_id)
        query = query.where(
            Partner.id.in_(select(Link.partner_id).where(Link.offer_id.in_(own_offers)))
            | Partner.id.in_(select(Conversion.partner_id).where(Conversion.offer_id.in_(own_offers)))
        )
    return query


def shows_partner_contacts(who: Principal) -> bool:
    """An advertiser sees who works on its offers, not how to reach them outside the program."""
    return who.role != "advertiser"


def rows_visible_to(model: Any, who: Principal) -> Select:
    """The rows of ``model`` (one with partner_id and offer_id: conversions, coupons, ...) the key may read."""
    return scoped(select(model), who, model.partner_id, model.offer_id)


def links_visible_to(who: Principal) -> Select:
    return rows_visible_to(Link, who)


def may_manage_offer(who: Principal, offer: Offer) -> bool:
    """An advertiser key manages only its own offers (and their coupons); admin keys manage every offer."""
    return who.role != "advertiser" or offer.advertiser_id == who.advertiser_id


def may_read_private_records(who: Principal, partner_id: int) -> bool:
    """Whether the key may read the partner's tax profile, statements and invoices.

    Tax ids, bank details and payouts belong to the partner alone: unlike ``partners_visible_to``, a
    distributor's key does not reach its resellers' records.
    """
    return who.role != "partner" or who.partner_id == partner_id


def partner_scope(who: Principal, requested: int | None, refusal: str) -> int | None:
    """The partner a request is about: a partner key only itself (403 with ``refusal`` for another one),
    other keys the partner they name, or None for every partner."""
    if who.role != "partner":
        return requested
    if requested not in (None, who.partner_id):
        raise ApiError(403, refusal)
    return who.partner_id


def owned_advertiser_id(who: Principal, requested: int | None) -> int:
    """The advertiser a new offer belongs to: the key's own, or the one an admin names."""
    if who.role == "advertiser":
        own = who.advertiser_id
        if own is None:  # the api_keys "role" check gives every advertiser key its advertiser
            raise ValueError(f"advertiser key {who.key_id} has no advertiser_id")
        if requested not in (None, own):
            raise ApiError(403, "an advertiser key creates offers only for its own advertiser")
        return own
    if requested is None:
        raise ApiError(422, "advertiser_id is required with an admin key")
    return requested


def owned_partner_id(
    who: Principal, requested: int | None, refusal: str = "a partner key creates links only for its own partner"
) -> int:
    """The partner a new record (a link, a postback URL) belongs to: a partner key's own, or the one an admin names."""
    partner_id = partner_scope(who, requested, refusal)
    if partner_id is None:
        raise ApiError(422, "partner_id is required with an admin key")
    return partner_id
