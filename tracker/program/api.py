"""API for the program: advertisers, partners, offers and partner links."""

from __future__ import annotations

from flask import Blueprint
from spectree import Response
from sqlalchemy.exc import IntegrityError

from core.api.auth import Principal, principal, require_roles
from core.api.errors import ApiError, commit_or_conflict
from core.api.openapi import ERRORS, api_spec
from core.api.schemas import ListQuery
from core.db import db
from core.money import InvalidAmount, major_text, to_minor
from tracker.attribution.signing import pixel_message
from tracker.program.links import generate_code
from tracker.program.models import Advertiser, Link, Offer, Partner, new_pixel_secret
from tracker.program.partners import PartnerRefused, add_partner
from tracker.program.schemas import (
    AdvertiserIn,
    AdvertiserList,
    AdvertiserOut,
    LinkIn,
    LinkList,
    LinkOut,
    OfferIn,
    OfferList,
    OfferOut,
    OfferPatch,
    PartnerIn,
    PartnerList,
    PartnerOut,
    PixelSetupOut,
)
from tracker.program.scopes import (
    advertisers_visible_to,
    links_visible_to,
    offers_visible_to,
    owned_advertiser_id,
    owned_partner_id,
    partners_visible_to,
    shows_partner_contacts,
)
from tracker.services import tracker

bp = Blueprint("program_api", __name__, url_prefix="/api/v1")


@bp.post("/advertisers")
@require_roles("admin")
@api_spec.validate(json=AdvertiserIn, resp=Response(HTTP_201=AdvertiserOut, **ERRORS), tags=["program"])
def create_advertiser(json: AdvertiserIn):
    advertiser = Advertiser(name=json.name, contact_email=str(json.contact_email))
    db.session.add(advertiser)
    db.session.commit()
    return AdvertiserOut.model_validate(advertiser), 201


@bp.get("/advertisers")
@require_roles("admin", "finance", "advertiser")
@api_spec.validate(query=ListQuery, resp=Response(HTTP_200=AdvertiserList, **ERRORS), tags=["program"])
def list_advertisers(query: ListQuery):
    statement = advertisers_visible_to(principal()).order_by(Advertiser.id).limit(query.limit).offset(query.offset)
    return AdvertiserList(items=[AdvertiserOut.model_validate(a) for a in db.session.scalars(statement)])


@bp.post("/partners")
@require_roles("admin")
@api_spec.validate(json=PartnerIn, resp=Response(HTTP_201=PartnerOut, **ERRORS), tags=["program"])
def create_partner(json: PartnerIn):
    try:
        partner = add_partner(json)
    except PartnerRefused as error:
        raise ApiError(422, str(error)) from None
    db.session.commit()
    return PartnerOut.model_validate(partner), 201


@bp.get("/partners")
@require_roles("admin", "finance", "advertiser", "partner")
@api_spec.validate(query=ListQuery, resp=Response(HTTP_200=PartnerList, **ERRORS), tags=["program"])
def list_partners(query: ListQuery):
    who = principal()
    statement = partners_visible_to(who).order_by(Partner.id).limit(query.limit).offset(query.offset)
    items = [PartnerOut.model_validate(p) for p in db.session.scalars(statement)]
    if not shows_partner_contacts(who):
        items = [item.model_copy(update={"contact_email": None}) for item in items]
    return PartnerList(items=items)


def offer_out(offer: Offer) -> OfferOut:
    values = {name: getattr(offer, name) for name in OfferOut.model_fields if hasattr(offer, name)}
    ceiling = offer.review_above_minor
    currency = offer.review_above_currency
    values["review_above_amount"] = None if ceiling is None or currency is None else major_text(ceiling, currency)
    return OfferOut.model_validate(values)


def _offer_values(fields: dict) -> dict:
    """The request's fields as the model's columns: the ceiling in minor units of its currency."""
    if "review_above_amount" not in fields:
        return fields
    amount, currency = fields.pop("review_above_amount"), fields.pop("review_above_currency")
    if amount is None or currency is None:
        return fields | {"review_above_minor": None, "review_above_currency": None}
    try:
        minor = to_minor(amount, currency)
    except InvalidAmount as error:
        raise ApiError(422, f"review_above_amount: {error}") from None
    return fields | {"review_above_minor": minor, "review_above_currency": currency}


@bp.post("/offers")
@require_roles("admin", "advertiser")
@api_spec.validate(json=OfferIn, resp=Response(HTTP_201=OfferOut, **ERRORS), tags=["offers"])
def create_offer(json: OfferIn):
    advertiser_id = owned_advertiser_id(principal(), json.advertiser_id)
    if db.session.get(Advertiser, advertiser_id) is None:
        raise ApiError(422, f"advertiser {advertiser_id} does not exist")
    offer = Offer(**_offer_values(json.model_dump() | {"advertiser_id": advertiser_id}))
    db.session.add(offer)
    # Two requests may race for one slug; the unique constraint decides and the loser hears why.
    commit_or_conflict(f"an offer with slug {json.slug!r} already exists")
    return offer_out(offer), 201


@bp.get("/offers")
@require_roles("admin", "finance", "advertiser", "partner")
@api_spec.validate(query=ListQuery, resp=Response(HTTP_200=OfferList, **ERRORS), tags=["offers"])
def list_offers(query: ListQuery):
    statement = offers_visible_to(principal()).order_by(Offer.id).limit(query.limit).offset(query.offset)
    return OfferList(items=[offer_out(o) for o in db.session.scalars(statement)])


@bp.patch("/offers/<int:offer_id>")
@require_roles("admin", "advertiser")
@api_spec.validate(json=OfferPatch, resp=Response(HTTP_200=OfferOut, **ERRORS), tags=["offers"])
def update_offer(offer_id: int, json: OfferPatch):
    offer = _own_offer(offer_id)
    for field, value in _offer_values(json.model_dump(exclude_unset=True)).items():
        setattr(offer, field, value)
    db.session.commit()
    # Other nodes see the change when their link cache entries expire (LINK_CACHE_SECONDS).
    tracker().links.forget()
    return offer_out(offer)


def _own_offer(offer_id: int) -> Offer:
    offer = db.session.scalar(offers_visible_to(principal()).where(Offer.id == offer_id))
    if offer is None:
        raise ApiError(404, f"offer {offer_id} not found")
    return offer


def pixel_setup(offer: Offer) -> PixelSetupOut:
    base = tracker().settings.public_base_url
    message = pixel_message(offer.slug, "sale", "{order_id}", "{amount}", "{currency}")
    snippet = (
        f'<script src="{base}/t.js" data-offer="{offer.slug}" async></script>\n'
        "<!-- Your server renders order_id, amount, currency and\n"
        f'     sig = hex(HMAC-SHA256(pixel_secret, "{message}")) into the page. -->\n'
        "<script>\n"
        '  window.addEventListener("load", function () {\n'
        '    Handoff.convert({event: "sale", order_id: "{order_id}", amount: "{amount}", '
        'currency: "{currency}", sig: "{sig}"});\n'
        "  });\n"
        "</script>"
    )
    return PixelSetupOut(
        offer_id=offer.id,
        pixel_signing=offer.pixel_signing,
        pixel_secret=offer.pixel_secret,
        signed_message="offer_slug|event|order_id|amount|currency",
        snippet=snippet,
    )


@bp.get("/offers/<int:offer_id>/pixel")
@require_roles("admin", "advertiser")
@api_spec.validate(resp=Response(HTTP_200=PixelSetupOut, **ERRORS), tags=["offers"])
def get_pixel_setup(offer_id: int):
    """The offer's pixel secret and a signed-pixel snippet: for its advertiser and admins only."""
    return pixel_setup(_own_offer(offer_id))


@bp.post("/offers/<int:offer_id>/pixel/rotate-secret")
@require_roles("admin", "advertiser")
@api_spec.validate(resp=Response(HTTP_200=PixelSetupOut, **ERRORS), tags=["offers"])
def rotate_pixel_secret(offer_id: int):
    """A new pixel secret; pages signing with the old one are refused (signing on) from now."""
    offer = _own_offer(offer_id)
    offer.pixel_secret = new_pixel_secret()
    db.session.commit()
    return pixel_setup(offer)


def link_out(link: Link) -> LinkOut:
    base = tracker().settings.public_base_url
    return LinkOut(
        id=link.id,
        code=link.code,
        url=f"{base}/c/{link.code}",
        partner_id=link.partner_id,
        offer_id=link.offer_id,
        sub1=link.sub1,
        sub2=link.sub2,
        sub3=link.sub3,
        sub4=link.sub4,
        sub5=link.sub5,
        created_at=link.created_at,
    )


def _insert_link(values: dict, custom_code: str | None) -> Link:
    """Insert with the requested code, or draw generated codes until one is free."""
    for _ in range(5):
        link = Link(code=custom_code or generate_code(), **values)
        db.session.add(link)
        try:
            db.session.commit()
            return link
        except IntegrityError:
            # The unique index on code is the arbiter when two creators pick one code at once.
            db.session.rollback()
            if custom_code:
                raise ApiError(409, f"link code {custom_code!r} is taken") from None
    raise ApiError(503, "could not draw a free link code; try again")


@bp.post("/links")
@require_roles("admin", "partner")
@api_spec.validate(json=LinkIn, resp=Response(HTTP_201=LinkOut, **ERRORS), tags=["links"])
def create_link(json: LinkIn):
    return link_out(add_link(principal(), json)), 201


def add_link(who: Principal, json: LinkIn) -> Link:
    """A new link for the caller's partner (or the partner an admin names); ApiError says why not.

    POST /api/v1/links and the portal's link builder (tracker.program.link_pages) both create links here.
    """
    partner_id = owned_partner_id(who, json.partner_id)
    partner = db.session.get(Partner, partner_id)
    if partner is None:
        raise ApiError(422, f"partner {partner_id} does not exist")
    offer = db.session.get(Offer, json.offer_id)
    if offer is None:
        raise ApiError(422, f"offer {json.offer_id} does not exist")
    if offer.status != "active":
        raise ApiError(422, f"offer {offer.slug!r} is {offer.status}; links need an active offer")
    values = json.model_dump(exclude={"code", "partner_id"}) | {"partner_id": partner_id}
    return _insert_link(values, json.code)


@bp.get("/links")
@require_roles("admin", "finance", "advertiser", "partner")
@api_spec.validate(query=ListQuery, resp=Response(HTTP_200=LinkList, **ERRORS), tags=["links"])
def list_links(query: ListQuery):
    statement = links_visible_to(principal()).order_by(Link.id).limit(query.limit).offset(query.offset)
    return LinkList(items=[link_out(link) for link in db.session.scalars(statement)])
