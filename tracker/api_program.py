"""API for the program's directory: advertisers and partners."""
from __future__ import annotations

from flask import Blueprint
from spectree import Response
from sqlalchemy import select

from core.auth import principal, require_roles
from core.db import db
from core.errors import ApiError
from core.openapi import api_spec
from tracker.models import Advertiser, Partner
from tracker.schemas import AdvertiserIn, AdvertiserList, AdvertiserOut, ListQuery, PartnerIn, PartnerList, PartnerOut
from tracker.scopes import partners_visible_to

bp = Blueprint("program_api", __name__, url_prefix="/api/v1")
ERRORS = {"HTTP_401": None, "HTTP_403": None, "HTTP_422": None}


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
    statement = select(Advertiser).order_by(Advertiser.id).limit(query.limit).offset(query.offset)
    who = principal()
    if who.role == "advertiser":
        statement = statement.where(Advertiser.id == who.advertiser_id)
    return AdvertiserList(items=[AdvertiserOut.model_validate(a) for a in db.session.scalars(statement)])


def _check_parent(parent_id: int | None) -> None:
    if parent_id is None:
        return
    parent = db.session.get(Partner, parent_id)
    if parent is None:
        raise ApiError(422, f"parent partner {parent_id} does not exist")
    if parent.parent_id is not None:
        # Overrides pay one level up (distributor over reseller); deeper chains are refused, not guessed.
        raise ApiError(422, f"partner {parent_id} already has a parent; nest one level only")


@bp.post("/partners")
@require_roles("admin")
@api_spec.validate(json=PartnerIn, resp=Response(HTTP_201=PartnerOut, **ERRORS), tags=["program"])
def create_partner(json: PartnerIn):
    _check_parent(json.parent_id)
    partner = Partner(**json.model_dump())
    db.session.add(partner)
    db.session.commit()
    return PartnerOut.model_validate(partner), 201


@bp.get("/partners")
@require_roles("admin", "finance", "advertiser", "partner")
@api_spec.validate(query=ListQuery, resp=Response(HTTP_200=PartnerList, **ERRORS), tags=["program"])
def list_partners(query: ListQuery):
    statement = partners_visible_to(principal()).order_by(Partner.id).limit(query.limit).offset(query.offset)
    return PartnerList(items=[PartnerOut.model_validate(p) for p in db.session.scalars(statement)])
