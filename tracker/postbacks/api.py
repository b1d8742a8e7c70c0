"""API for partner postbacks: a partner sets its URL template, reads its delivery log, sends a test."""

from __future__ import annotations

from flask import Blueprint
from spectree import Response
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from core.api.auth import principal, require_roles
from core.api.errors import ApiError
from core.api.openapi import ERRORS, api_spec
from core.db import db
from tracker.postbacks.delivery import queue_test
from tracker.postbacks.messages import PostbackRefused, check_target, render_url
from tracker.postbacks.models import PostbackDelivery, PostbackEndpoint, new_secret
from tracker.postbacks.schemas import (
    DeliveryList,
    DeliveryOut,
    DeliveryQuery,
    PartnerQuery,
    PostbackIn,
    PostbackOut,
    SendTestIn,
)
from tracker.program.models import Partner
from tracker.program.scopes import owned_partner_id
from tracker.services import tracker

bp = Blueprint("postbacks_api", __name__, url_prefix="/api/v1")


def _partner_id(requested: int | None) -> int:
    return owned_partner_id(principal(), requested, "a partner key manages only its own postback")


def find_endpoint(partner_id: int) -> PostbackEndpoint | None:
    return db.session.scalar(select(PostbackEndpoint).where(PostbackEndpoint.partner_id == partner_id))


def _endpoint_of(partner_id: int) -> PostbackEndpoint:
    endpoint = find_endpoint(partner_id)
    if endpoint is None:
        raise ApiError(404, f"partner {partner_id} has no postback URL; set one with PUT /api/v1/postback")
    return endpoint


def _save(partner_id: int, json: PostbackIn) -> PostbackEndpoint:
    endpoint = db.session.scalar(select(PostbackEndpoint).where(PostbackEndpoint.partner_id == partner_id))
    if endpoint is None:
        endpoint = PostbackEndpoint(partner_id=partner_id, secret=new_secret())
        db.session.add(endpoint)
    elif json.rotate_secret:
        endpoint.secret = new_secret()
    endpoint.url_template, endpoint.active = json.url_template, json.active
    db.session.commit()
    return endpoint


@bp.put("/postback")
@require_roles("admin", "partner")
@api_spec.validate(
    query=PartnerQuery, json=PostbackIn, resp=Response(HTTP_200=PostbackOut, **ERRORS), tags=["postbacks"]
)
def put_postback(query: PartnerQuery, json: PostbackIn):
    return PostbackOut.model_validate(set_postback(_partner_id(query.partner_id), json))


def set_postback(partner_id: int, json: PostbackIn) -> PostbackEndpoint:
    """Check the URL's host (no private or local address) and save it; ApiError says why not.

    PUT /api/v1/postback and the portal's postback page (tracker.postbacks.pages) both save here.
    """
    if db.session.get(Partner, partner_id) is None:
        raise ApiError(422, f"partner {partner_id} does not exist")
    try:
        # Macros never reach the host, so rendering them empty checks the host every postback uses.
        check_target(render_url(json.url_template, {}), tracker().settings.allow_private_postback_targets)
    except PostbackRefused as exc:
        raise ApiError(422, f"postback URL refused: {exc}") from None
    try:
        endpoint = _save(partner_id, json)
    except IntegrityError:
        # Two first PUTs for one partner race to insert; the unique partner_id keeps one row, and
        # the loser applies its values to the winner's row instead.
        db.session.rollback()
        endpoint = _save(partner_id, json)
    return endpoint


@bp.get("/postback")
@require_roles("admin", "partner")
@api_spec.validate(query=PartnerQuery, resp=Response(HTTP_200=PostbackOut, **ERRORS), tags=["postbacks"])
def get_postback(query: PartnerQuery):
    return PostbackOut.model_validate(_endpoint_of(_partner_id(query.partner_id)))


@bp.get("/postback/deliveries")
@require_roles("admin", "partner")
@api_spec.validate(query=DeliveryQuery, resp=Response(HTTP_200=DeliveryList, **ERRORS), tags=["postbacks"])
def list_deliveries(query: DeliveryQuery):
    deliveries = latest_deliveries(_partner_id(query.partner_id), query.limit, query.offset)
    return DeliveryList(items=[DeliveryOut.model_validate(d) for d in deliveries])


def latest_deliveries(partner_id: int, limit: int, offset: int = 0) -> list[PostbackDelivery]:
    """The partner's postback deliveries, newest first."""
    statement = (
        select(PostbackDelivery)
        .join(PostbackEndpoint, PostbackDelivery.endpoint_id == PostbackEndpoint.id)
        .where(PostbackEndpoint.partner_id == partner_id)
        .order_by(PostbackDelivery.created_at.desc(), PostbackDelivery.id.desc())
        .limit(limit)
        .offset(offset)
    )
    return list(db.session.scalars(statement))


@bp.post("/postback/test")
@require_roles("admin", "partner")
@api_spec.validate(
    query=PartnerQuery,
    json=SendTestIn,
    resp=Response(HTTP_202=DeliveryOut, **ERRORS),
    tags=["postbacks"],
)
def post_test(query: PartnerQuery, json: SendTestIn):
    """Queue sample values for the postback URL and answer at once with the pending delivery.

    The worker sends it within a second or so, once (never retried); its result shows in
    GET /postback/deliveries. An inactive postback is 409 and queues nothing.
    """
    return DeliveryOut.model_validate(send_test(_endpoint_of(_partner_id(query.partner_id)))), 202


def send_test(endpoint: PostbackEndpoint) -> PostbackDelivery:
    """Queue a test delivery to an active postback (the worker sends it); ApiError 409 when it is inactive."""
    if not endpoint.active:
        raise ApiError(409, "the postback is inactive (active=false); set active=true with PUT /api/v1/postback first")
    return queue_test(endpoint)
