"""Product families and promotions over the API: /api/v1/catalog/families and /api/v1/catalog/promotions.

Nested in ``channel.catalog.api``'s blueprint, which gives it the /api/v1 prefix.
"""

from __future__ import annotations

from flask import Blueprint
from spectree import Response
from sqlalchemy import Select, or_, select

from channel.catalog.models import Product, ProductFamily, Promotion
from channel.catalog.products import CatalogueError, find_family, find_product, update_family
from channel.catalog.promotions import PromotionRefused, check_promotion_change, check_promotion_removal
from channel.catalog.schemas import (
    FamilyIn,
    FamilyList,
    FamilyOut,
    FamilyPatch,
    PromotionIn,
    PromotionList,
    PromotionOut,
    PromotionPatch,
    PromotionQuery,
)
from core.api.auth import principal, require_roles
from core.api.errors import ApiError, commit_or_conflict
from core.api.openapi import ERRORS, api_spec
from core.api.schemas import ListQuery
from core.db import db, utcnow
from tracker.program.models import Partner

bp = Blueprint("catalog_promotions", __name__)
WRITERS = ("admin", "advertiser")
READERS = ("admin", "finance", "advertiser", "partner")


def family_out(family: ProductFamily) -> FamilyOut:
    below, above = family.price_below_percent, family.price_above_percent
    return FamilyOut(
        code=family.code,
        name=family.name,
        serial_pattern=family.serial_pattern,
        price_below_percent=None if below is None else f"{below:.2f}",
        price_above_percent=None if above is None else f"{above:.2f}",
        created_at=family.created_at,
    )


@bp.get("/catalog/families")
@require_roles(*READERS)
@api_spec.validate(query=ListQuery, resp=Response(HTTP_200=FamilyList, **ERRORS), tags=["catalog"])
def list_families(query: ListQuery):
    statement = select(ProductFamily).order_by(ProductFamily.code).limit(query.limit).offset(query.offset)
    return FamilyList(items=[family_out(family) for family in db.session.scalars(statement)])


@bp.post("/catalog/families")
@require_roles(*WRITERS)
@api_spec.validate(json=FamilyIn, resp=Response(HTTP_201=FamilyOut, **ERRORS), tags=["catalog"])
def create_family(json: FamilyIn):
    family = ProductFamily(code=json.code)
    update_family(family, json.model_dump())
    db.session.add(family)
    # Two requests may create one code at once; the unique code decides and the loser hears why.
    commit_or_conflict(f"family {json.code!r} already exists")
    return family_out(family), 201


@bp.patch("/catalog/families/<code>")
@require_roles(*WRITERS)
@api_spec.validate(
    json=FamilyPatch,
    resp=Response(HTTP_200=FamilyOut, **ERRORS),
    tags=["catalog"],
    path_parameter_descriptions={"code": "The family's code."},
)
def update_family_fields(code: str, json: FamilyPatch):
    """Rename a family, change its serial format or its price band; serials already accepted stay accepted."""
    try:
        family = find_family(code.lower())
    except CatalogueError as error:
        raise ApiError(404, str(error)) from None
    update_family(family, json.model_dump(exclude_unset=True))
    db.session.commit()
    return family_out(family)


def promotion_out(promotion: Promotion) -> PromotionOut:
    return PromotionOut(
        id=promotion.id,
        name=promotion.name,
        multiplier=f"{promotion.multiplier:.3f}",
        sku=promotion.product.sku if promotion.product else None,
        family=promotion.family.code if promotion.family else None,
        partner_tier=promotion.partner_tier,
        starts_on=promotion.starts_on,
        ends_on=promotion.ends_on,
        created_at=promotion.created_at,
    )


def promotions_visible_to_caller() -> Select:
    """Every promotion, but for a partner key only those open to every tier or to its own."""
    who = principal()
    statement = select(Promotion)
    if who.role == "partner":
        partner = db.session.get(Partner, who.partner_id)
        tier = partner.tier if partner is not None else None
        statement = statement.where(or_(Promotion.partner_tier.is_(None), Promotion.partner_tier == tier))
    return statement


@bp.get("/catalog/promotions")
@require_roles(*READERS)
@api_spec.validate(query=PromotionQuery, resp=Response(HTTP_200=PromotionList, **ERRORS), tags=["catalog"])
def list_promotions(query: PromotionQuery):
    """Promotions by start day, filtered by SKU, family, tier or a day they run on."""
    statement = promotions_visible_to_caller()
    if query.sku is not None:
        statement = statement.where(Promotion.product_id.in_(select(Product.id).where(Product.sku == query.sku)))
    if query.family is not None:
        families = select(ProductFamily.id).where(ProductFamily.code == query.family)
        statement = statement.where(Promotion.family_id.in_(families))
    if query.partner_tier is not None:
        statement = statement.where(Promotion.partner_tier == query.partner_tier)
    if query.on is not None:
        statement = statement.where(Promotion.starts_on <= query.on, Promotion.ends_on >= query.on)
    statement = statement.order_by(Promotion.starts_on, Promotion.id).limit(query.limit).offset(query.offset)
    return PromotionList(items=[promotion_out(promotion) for promotion in db.session.scalars(statement)])


def promotion_target(json: PromotionIn) -> dict:
    """The promotion's product, family or tier as Promotion's columns; ApiError 422 for an unknown one."""
    if json.sku is not None:
        product = find_product(json.sku)
        if product is None:
            raise ApiError(422, f"product {json.sku!r} is not in the catalogue")
        return {"product": product}
    if json.family is not None:
        try:
            return {"family": find_family(json.family)}
        except CatalogueError as error:
            raise ApiError(422, str(error)) from None
    return {"partner_tier": json.partner_tier}


@bp.post("/catalog/promotions")
@require_roles(*WRITERS)
@api_spec.validate(json=PromotionIn, resp=Response(HTTP_201=PromotionOut, **ERRORS), tags=["catalog"])
def create_promotion(json: PromotionIn):
    """A dated multiplier for one SKU, family or partner tier; overlapping promotions multiply."""
    promotion = Promotion(
        name=json.name,
        multiplier=json.multiplier,
        starts_on=json.starts_on,
        ends_on=json.ends_on,
        **promotion_target(json),
    )
    db.session.add(promotion)
    db.session.commit()
    return promotion_out(promotion), 201


def _own_promotion(promotion_id: int) -> Promotion:
    promotion = db.session.get(Promotion, promotion_id)
    if promotion is None:
        raise ApiError(404, f"promotion {promotion_id} not found")
    return promotion


@bp.patch("/catalog/promotions/<int:promotion_id>")
@require_roles(*WRITERS)
@api_spec.validate(json=PromotionPatch, resp=Response(HTTP_200=PromotionOut, **ERRORS), tags=["catalog"])
def update_promotion(promotion_id: int, json: PromotionPatch):
    """Before it starts, anything; once started, only its name and end (never into the past): 409 otherwise."""
    promotion = _own_promotion(promotion_id)
    fields = json.model_dump(exclude_unset=True)
    try:
        check_promotion_change(promotion, fields, utcnow().date())
    except PromotionRefused as error:
        raise ApiError(409, str(error)) from None
    except CatalogueError as error:
        raise ApiError(422, str(error)) from None
    for name, value in fields.items():
        setattr(promotion, name, value)
    db.session.commit()
    return promotion_out(promotion)


@bp.delete("/catalog/promotions/<int:promotion_id>")
@require_roles(*WRITERS)
@api_spec.validate(resp=Response(HTTP_204=None, **ERRORS), tags=["catalog"])
def delete_promotion(promotion_id: int):
    """Only a promotion that has not started (it cannot have earned points yet); end a running one instead."""
    promotion = _own_promotion(promotion_id)
    try:
        check_promotion_removal(promotion, utcnow().date())
    except PromotionRefused as error:
        raise ApiError(409, str(error)) from None
    db.session.delete(promotion)
    db.session.commit()
    return "", 204
