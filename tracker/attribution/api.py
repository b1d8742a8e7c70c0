"""API for attribution: conversions posted server to server and their status, deal registrations and coupons."""

from __future__ import annotations

from flask import Blueprint
from spectree import Response
from sqlalchemy import select

from core.api.auth import Principal, actor_name, principal, require_roles
from core.api.errors import ApiError, commit_or_conflict
from core.api.openapi import ERRORS, api_spec
from core.api.schemas import ListQuery
from core.db import db, utcnow
from core.money import major_text
from tracker.attribution.conversions import (
    ConversionInput,
    InvalidConversion,
    TransitionRefused,
    change_status,
    record_conversion,
)
from tracker.attribution.deals import DealRefused, reassign_deal, register_deal, registration_key
from tracker.attribution.models import Conversion, ConversionEvent, Coupon, DealRegistration
from tracker.attribution.schemas import (
    ConversionEventOut,
    ConversionIn,
    ConversionList,
    ConversionOut,
    ConversionQuery,
    CouponIn,
    CouponList,
    CouponOut,
    DealRegistrationIn,
    DealRegistrationList,
    DealRegistrationOut,
    ReassignIn,
    StatusChangeIn,
)
from tracker.program.models import Offer, Partner
from tracker.program.offer_cache import offer_for_conversion
from tracker.program.scopes import may_manage_offer, owned_partner_id, rows_visible_to
from tracker.services import tracker

bp = Blueprint("conversions_api", __name__, url_prefix="/api/v1")


def conversion_out(conversion: Conversion, with_events: bool = False) -> ConversionOut:
    events = []
    if with_events:
        events = [
            ConversionEventOut.model_validate(e)
            for e in db.session.scalars(
                select(ConversionEvent)
                .where(ConversionEvent.conversion_id == conversion.id)
                .order_by(ConversionEvent.id)
            )
        ]
    amount: str | None = None
    # The amount_has_currency check sets both or neither.
    if conversion.amount_minor is not None and conversion.currency is not None:
        amount = major_text(conversion.amount_minor, conversion.currency)
    return ConversionOut(
        id=conversion.id,
        offer_id=conversion.offer_id,
        event=conversion.event,
        order_id=conversion.order_id,
        amount=amount,
        currency=conversion.currency,
        occurred_at=conversion.occurred_at,
        source=conversion.source,
        status=conversion.status,
        partner_id=conversion.partner_id,
        attributed_by=conversion.carrier,
        click_id=conversion.click_id,
        review_reasons=conversion.review_reasons,
        attribution_notes=conversion.attribution_notes,
        events=events,
    )


def _own_offer(who: Principal, reference) -> Offer:
    offer = offer_for_conversion(reference)
    if offer is None or not may_manage_offer(who, offer):
        raise ApiError(404, f"offer {reference!r} not found among this key's offers")
    return offer


@bp.post("/conversions")
@require_roles("admin", "advertiser")
@api_spec.validate(
    json=ConversionIn, resp=Response(HTTP_200=ConversionOut, HTTP_201=ConversionOut, **ERRORS), tags=["conversions"]
)
def post_conversion(json: ConversionIn):
    """Record a lead, sale or custom event; a repeat of (offer, event, order_id) returns the first."""
    who = principal()
    offer = _own_offer(who, json.offer)
    customer = json.customer
    data = ConversionInput(
        event=json.event,
        order_id=json.order_id,
        source="api",
        amount=json.amount,
        currency=json.currency,
        occurred_at=json.occurred_at,
        token=json.token,
        ref_code=json.ref_code,
        coupon=json.coupon,
        email=customer.email if customer else None,
        company_domain=customer.company_domain if customer else None,
        tax_id=customer.tax_id if customer else None,
    )
    try:
        conversion, created = record_conversion(offer, data, actor_name(who), tracker().token_key)
    except InvalidConversion as exc:
        raise ApiError(422, str(exc)) from None
    return conversion_out(conversion), 201 if created else 200


@bp.get("/conversions")
@require_roles("admin", "finance", "advertiser", "partner")
@api_spec.validate(query=ConversionQuery, resp=Response(HTTP_200=ConversionList, **ERRORS), tags=["conversions"])
def list_conversions(query: ConversionQuery):
    statement = rows_visible_to(Conversion, principal())
    if query.status:
        statement = statement.where(Conversion.status == query.status)
    if query.offer_id:
        statement = statement.where(Conversion.offer_id == query.offer_id)
    statement = statement.order_by(Conversion.id.desc()).limit(query.limit).offset(query.offset)
    return ConversionList(items=[conversion_out(c) for c in db.session.scalars(statement)])


def _visible_conversion(conversion_id: int) -> Conversion:
    conversion = db.session.scalar(rows_visible_to(Conversion, principal()).where(Conversion.id == conversion_id))
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


def _active_offer(who: Principal, offer_id: int, what: str) -> Offer:
    """The offer new ``what`` (deal registrations, coupons) are for; like links, they need it active."""
    offer = db.session.get(Offer, offer_id)
    if offer is None:
        raise ApiError(422, f"offer {offer_id} does not exist")
    if not may_manage_offer(who, offer):
        raise ApiError(403, f"an advertiser key creates {what} only for its own offers")
    if offer.status != "active":
        raise ApiError(422, f"offer {offer.slug!r} is {offer.status}; {what} need an active offer")
    return offer


def _existing_partner(partner_id: int) -> Partner:
    partner = db.session.get(Partner, partner_id)
    if partner is None:
        raise ApiError(422, f"partner {partner_id} does not exist")
    return partner


@bp.post("/deal-registrations")
@require_roles("admin", "partner")
@api_spec.validate(json=DealRegistrationIn, resp=Response(HTTP_201=DealRegistrationOut, **ERRORS), tags=["deals"])
def create_deal_registration(json: DealRegistrationIn):
    """Register a prospect company; the first valid registration holds it for the offer's period."""
    who = principal()
    partner_id = owned_partner_id(who, json.partner_id)
    _existing_partner(partner_id)
    offer = _active_offer(who, json.offer_id, "deal registrations")
    try:
        key = registration_key(json.company_domain, json.tax_id)
        registration = register_deal(offer, partner_id, key, json.company_name, utcnow())
    except DealRefused as exc:
        status = 409 if "registered" in str(exc) else 422
        raise ApiError(status, str(exc)) from None
    return DealRegistrationOut.model_validate(registration), 201


@bp.get("/deal-registrations")
@require_roles("admin", "finance", "advertiser", "partner")
@api_spec.validate(query=ListQuery, resp=Response(HTTP_200=DealRegistrationList, **ERRORS), tags=["deals"])
def list_deal_registrations(query: ListQuery):
    statement = rows_visible_to(DealRegistration, principal()).order_by(DealRegistration.id.desc())
    rows = db.session.scalars(statement.limit(query.limit).offset(query.offset))
    return DealRegistrationList(items=[DealRegistrationOut.model_validate(r) for r in rows])


@bp.post("/deal-registrations/<int:registration_id>/reassign")
@require_roles("admin")
@api_spec.validate(json=ReassignIn, resp=Response(HTTP_200=DealRegistrationOut, **ERRORS), tags=["deals"])
def reassign_deal_registration(registration_id: int, json: ReassignIn):
    registration = db.session.get(DealRegistration, registration_id)
    if registration is None:
        raise ApiError(404, f"deal registration {registration_id} not found")
    _existing_partner(json.partner_id)
    return DealRegistrationOut.model_validate(
        reassign_deal(registration, json.partner_id, actor_name(principal()), json.reason)
    )


@bp.post("/coupons")
@require_roles("admin", "advertiser")
@api_spec.validate(json=CouponIn, resp=Response(HTTP_201=CouponOut, **ERRORS), tags=["deals"])
def create_coupon(json: CouponIn):
    offer = _active_offer(principal(), json.offer_id, "coupons")
    _existing_partner(json.partner_id)
    coupon = Coupon(code=json.code.upper(), partner_id=json.partner_id, offer_id=offer.id)
    db.session.add(coupon)
    # Codes are unique whatever their case; the constraint settles two creators racing for one.
    commit_or_conflict(f"coupon code {json.code.upper()!r} is taken")
    return CouponOut.model_validate(coupon), 201


@bp.get("/coupons")
@require_roles("admin", "finance", "advertiser", "partner")
@api_spec.validate(query=ListQuery, resp=Response(HTTP_200=CouponList, **ERRORS), tags=["deals"])
def list_coupons(query: ListQuery):
    rows = db.session.scalars(
        rows_visible_to(Coupon, principal()).order_by(Coupon.id).limit(query.limit).offset(query.offset)
    )
    return CouponList(items=[CouponOut.model_validate(c) for c in rows])
