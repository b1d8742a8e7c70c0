"""``/api/v1/conversions``: advertisers post leads and sales server to server, and decide on them."""
from __future__ import annotations

from flask import Blueprint
from spectree import Response
from sqlalchemy import select

from core.auth import Principal, principal, require_roles
from core.db import db
from core.errors import ApiError
from core.money import to_major
from core.openapi import api_spec
from tracker.conversion_models import Conversion, ConversionEvent
from tracker.conversion_schemas import (
    ConversionEventOut,
    ConversionIn,
    ConversionList,
    ConversionOut,
    ConversionQuery,
    StatusChangeIn,
)
from tracker.conversions import ConversionInput, InvalidConversion, TransitionRefused, change_status, record_conversion
from tracker.models import Offer
from tracker.services import tracker

bp = Blueprint("conversions_api", __name__, url_prefix="/api/v1")
ERRORS = {"HTTP_401": None, "HTTP_403": None, "HTTP_404": None, "HTTP_409": None, "HTTP_422": None}


def actor_name(who: Principal) -> str:
    return f"{who.role} key #{who.key_id}"


def conversion_out(conversion: Conversion, with_events: bool = False) -> ConversionOut:
    events = []
    if with_events:
        events = [ConversionEventOut.model_validate(e) for e in db.session.scalars(
            select(ConversionEvent).where(ConversionEvent.conversion_id == conversion.id)
            .order_by(ConversionEvent.id))]
    amount = (str(to_major(conversion.amount_minor, conversion.currency))
              if conversion.amount_minor is not None else None)
    return ConversionOut(
        id=conversion.id, offer_id=conversion.offer_id, event=conversion.event, order_id=conversion.order_id,
        amount=amount, currency=conversion.currency, occurred_at=conversion.occurred_at,
        source=conversion.source, status=conversion.status, partner_id=conversion.partner_id,
        attributed_by=conversion.carrier, click_id=conversion.click_id,
        review_reasons=conversion.review_reasons, attribution_notes=conversion.attribution_notes,
        events=events)


def _own_offer(who: Principal, reference) -> Offer:
    column = Offer.id if isinstance(reference, int) else Offer.slug
    offer = db.session.scalar(select(Offer).where(column == reference))
    if offer is None or (who.role == "advertiser" and offer.advertiser_id != who.advertiser_id):
        raise ApiError(404, f"offer {reference!r} not found among this key's offers")
    return offer


def conversions_visible_to(who: Principal):
    query = select(Conversion)
    if who.role == "advertiser":
        query = query.join(Offer, Conversion.offer_id == Offer.id).where(Offer.advertiser_id == who.advertiser_id)
    elif who.role == "partner":
        query = query.where(Conversion.partner_id == who.partner_id)
    return query


@bp.post("/conversions")
@require_roles("admin", "advertiser")
@api_spec.validate(json=ConversionIn, resp=Response(HTTP_200=ConversionOut, HTTP_201=ConversionOut, **ERRORS),
                   tags=["conversions"])
def post_conversion(json: ConversionIn):
    """Record a lead, sale or custom event; a repeat of (offer, event, order_id) returns the first."""
    who = principal()
    offer = _own_offer(who, json.offer)
    customer = json.customer
    data = ConversionInput(
        event=json.event, order_id=json.order_id, source="api", amount=json.amount, currency=json.currency,
        occurred_at=json.occurred_at, token=json.token, ref_code=json.ref_code, coupon=json.coupon,
        email=customer.email if customer else None,
        company_domain=customer.company_domain if customer else None,
        tax_id=customer.tax_id if customer else None)
    try:
        conversion, created = record_conversion(offer, data, actor_name(who), tracker().token_key)
    except InvalidConversion as exc:
        raise ApiError(422, str(exc)) from None
    return conversion_out(conversion), 201 if created else 200


@bp.get("/conversions")
@require_roles("admin", "finance", "advertiser", "partner")
@api_spec.validate(query=ConversionQuery, resp=Response(HTTP_200=ConversionList, **ERRORS), tags=["conversions"])
def list_conversions(query: ConversionQuery):
    statement = conversions_visible_to(principal())
    if query.status:
        statement = statement.where(Conversion.status == query.status)
    if query.offer_id:
        statement = statement.where(Conversion.offer_id == query.offer_id)
    statement = statement.order_by(Conversion.id.desc()).limit(query.limit).offset(query.offset)
    return ConversionList(items=[conversion_out(c) for c in db.session.scalars(statement)])


def _visible_conversion(conversion_id: int) -> Conversion:
    conversion = db.session.scalar(conversions_visible_to(principal()).where(Conversion.id == conversion_id))
    if conversion is None:
        raise ApiError(404, f"conversion {conversion_id} not found")
    return conversion


@bp.get("/conversions/<int:conversion_id>")
@require_roles("admin", "finance", "advertiser", "partner")
@api_spec.validate(resp=Response(HTTP_200=ConversionOut, **ERRORS), tags=["conversions"])
def get_conversion(conversion_id: int):
    return conversion_out(_visible_conversion(conversion_id), with_events=True)


def _decide(conversion_id: int, action: str, reason: str):
    if action in ("reject", "reverse") and not reason:
        raise ApiError(422, f"a reason is required to {action} a conversion")
    conversion = _visible_conversion(conversion_id)
    try:
        change_status(conversion, action, actor_name(principal()), reason)
    except TransitionRefused as exc:
        raise ApiError(409, str(exc)) from None
    return conversion_out(conversion, with_events=True)


@bp.post("/conversions/<int:conversion_id>/approve")
@require_roles("admin", "advertiser")
@api_spec.validate(json=StatusChangeIn, resp=Response(HTTP_200=ConversionOut, **ERRORS), tags=["conversions"])
def approve_conversion(conversion_id: int, json: StatusChangeIn):
    return _decide(conversion_id, "approve", json.reason)


@bp.post("/conversions/<int:conversion_id>/reject")
@require_roles("admin", "advertiser")
@api_spec.validate(json=StatusChangeIn, resp=Response(HTTP_200=ConversionOut, **ERRORS), tags=["conversions"])
def reject_conversion(conversion_id: int, json: StatusChangeIn):
    return _decide(conversion_id, "reject", json.reason)


@bp.post("/conversions/<int:conversion_id>/reverse")
@require_roles("admin", "advertiser")
@api_spec.validate(json=StatusChangeIn, resp=Response(HTTP_200=ConversionOut, **ERRORS), tags=["conversions"])
def reverse_conversion(conversion_id: int, json: StatusChangeIn):
    return _decide(conversion_id, "reverse", json.reason)
