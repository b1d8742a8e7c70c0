"""Promotions and the points a sale earns: every promotion running that day for the product's SKU, its family
or the partner's tier multiplies the product's points per unit.

Rule (documented in the README): points = points_per_unit x quantity x the product of every matching
multiplier, computed exactly in Decimal and rounded once, half up (away from zero), to whole points. Two
promotions that overlap both apply (1.5 x 2 = 3). Rounding is symmetric, so a return (negative quantity)
takes back exactly what the same quantity earned.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, Inexact, localcontext
from typing import Any

from sqlalchemy import or_, select

from channel.catalog.models import Product, Promotion
from channel.catalog.products import CatalogueError
from core.db import db

# Enough digits that no product of multipliers (three decimals each, at most 100) is ever rounded before the
# final step; an inexact step would raise rather than pass unnoticed.
_PRECISION = 400
PROMOTION_FIELDS_AFTER_START = frozenset({"name", "ends_on"})


class PromotionRefused(ValueError):
    """A promotion change that would rewrite points already earned; the message says what is allowed."""


def promotions_on(product: Product, on: date, partner_tier: str | None) -> list[Promotion]:
    """The promotions running on ``on`` for this product's SKU, its family or the partner's tier."""
    targets = [Promotion.product_id == product.id, Promotion.family_id == product.family_id]
    if partner_tier is not None:
        targets.append(Promotion.partner_tier == partner_tier)
    statement = (
        select(Promotion)
        .where(Promotion.starts_on <= on, Promotion.ends_on >= on, or_(*targets))
        .order_by(Promotion.id)
    )
    return list(db.session.scalars(statement))


def apply_multipliers(points_per_unit: int, quantity: int, multipliers: Iterable[Decimal]) -> int:
    """points_per_unit x quantity x every multiplier, exact, then rounded half up (away from zero) once."""
    with localcontext() as context:
        context.prec = _PRECISION
        context.traps[Inexact] = True
        points = Decimal(points_per_unit) * quantity
        for multiplier in multipliers:
            points *= multiplier
        context.traps[Inexact] = False  # the one rounding there is meant to be
        return int(points.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def points_for(product: Product, quantity: int, on: date, partner_tier: str | None) -> int:
    """Points earned for ``quantity`` units of ``product`` sold on ``on`` by a partner of ``partner_tier``.

    It does not check that the product is eligible on that day: ask ``product_on`` first.
    """
    multipliers = [promotion.multiplier for promotion in promotions_on(product, on, partner_tier)]
    return apply_multipliers(product.points_per_unit, quantity, multipliers)


def check_promotion_change(promotion: Promotion, fields: dict[str, Any], today: date) -> None:
    """A promotion that has started may only be renamed or have its end moved, and not into the past;
    one that has not is free to change.

    Points already earned were priced with it; changing its multiplier or start would make a return take
    back a different number of points than the sale earned.
    """
    starts_on, ends_on = fields.get("starts_on", promotion.starts_on), fields.get("ends_on", promotion.ends_on)
    if ends_on < starts_on:
        raise CatalogueError(f"ends_on ({ends_on}) must not be before starts_on ({starts_on})")
    if promotion.starts_on > today:
        return
    locked = sorted(set(fields) - PROMOTION_FIELDS_AFTER_START)
    if locked:
        raise PromotionRefused(
            f"promotion {promotion.id} started on {promotion.starts_on}; only its name and ends_on can change "
            f"(not {', '.join(locked)})"
        )
    if "ends_on" in fields and fields["ends_on"] < min(today, promotion.ends_on):
        raise PromotionRefused(f"ends_on cannot move into the past (before {min(today, promotion.ends_on)})")


def check_promotion_removal(promotion: Promotion, today: date) -> None:
    if promotion.starts_on <= today:
        raise PromotionRefused(
            f"promotion {promotion.id} started on {promotion.starts_on} and may have earned points; "
            "end it instead (PATCH ends_on)"
        )
