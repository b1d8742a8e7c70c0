"""Products and families: saving them (the API and the file import call the same functions) and the questions
sell-out will ask of them: is this SKU eligible on that day, is this price near enough to the list price.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, select

from channel.catalog.models import Product, ProductFamily
from core.db import db, utcnow
from core.money import major_text, to_minor

# The program-wide band, for families that set none: a reported unit price 30% under the list price or
# 20% over it is more likely a typo (or a unit mix-up) than a deal, and is sent to review.
DEFAULT_PRICE_BELOW_PERCENT = Decimal(30)
DEFAULT_PRICE_ABOVE_PERCENT = Decimal(20)
FAMILY_COLUMNS = ("name", "serial_pattern", "price_below_percent", "price_above_percent")


class CatalogueError(ValueError):
    """A catalogue change that cannot be made; the message says why (the API answers it as 422)."""


def find_family(code: str) -> ProductFamily:
    family = db.session.scalar(select(ProductFamily).where(ProductFamily.code == code))
    if family is None:
        raise CatalogueError(f"family {code!r} does not exist; create it first (POST /api/v1/catalog/families)")
    return family


def find_product(sku: str) -> Product | None:
    return db.session.scalar(select(Product).where(Product.sku == sku.strip().upper()))


def update_family(family: ProductFamily, fields: dict[str, Any]) -> None:
    for name in FAMILY_COLUMNS:
        if name in fields:
            setattr(family, name, fields[name])


def apply_product(product: Product, fields: dict[str, Any], actor: str) -> bool:
    """Write the request's fields (API names, already validated by ProductIn or ProductPatch) onto ``product``.

    Answers whether anything changed, so a re-import of the same file changes nothing, not even updated_at.
    """
    values = dict(fields)
    if "family" in values:
        values["family"] = find_family(values["family"])
    if "list_price" in values:
        values["list_price_minor"] = to_minor(values.pop("list_price"), values["currency"])
    start = values.get("eligible_from", product.eligible_from)
    end = values.get("eligible_to", product.eligible_to)
    if start is not None and end is not None and end < start:
        raise CatalogueError(f"eligible_to ({end}) must not be before eligible_from ({start})")
    changed = {name: value for name, value in values.items() if getattr(product, name) != value}
    for name, value in changed.items():
        setattr(product, name, value)
    if changed:
        product.updated_at, product.updated_by = utcnow(), actor
    return bool(changed)


def products_visible_to(role: str) -> Select:
    """A partner key reads the active catalogue; the vendor, admins and finance see withdrawn products too."""
    statement = select(Product)
    return statement.where(Product.active.is_(True)) if role == "partner" else statement


def product_on(sku: str, on: date) -> Product | None:
    """The product with this SKU (any case) if it is active and eligible on ``on`` (both ends included)."""
    product = find_product(sku)
    return product if product is not None and is_eligible(product, on) else None


def is_eligible(product: Product, on: date) -> bool:
    """``product_on``'s rule for a product already loaded (sell-out loads a file's products in bulk)."""
    if not product.active or on < product.eligible_from:
        return False
    return product.eligible_to is None or on <= product.eligible_to


@dataclass(frozen=True)
class BandVerdict:
    """Whether a price lies in the product's band; false with a reason a person can act on when not.

    Truthy only when in the band, so ``if not price_in_band(...)`` reads as it should.
    """

    in_band: bool
    reason: str = ""

    def __bool__(self) -> bool:
        return self.in_band


def price_band(product: Product) -> tuple[Decimal, Decimal]:
    """Percent below and above list price: the family's band, or the program's default."""
    family = product.family
    if family.price_below_percent is not None and family.price_above_percent is not None:
        return family.price_below_percent, family.price_above_percent
    return DEFAULT_PRICE_BELOW_PERCENT, DEFAULT_PRICE_ABOVE_PERCENT


def price_in_band(product: Product, unit_price_minor: int, currency: str) -> BandVerdict:
    """Whether a reported unit price lies within the band around the list price, compared exactly.

    Prices in another currency than the list price are outside: the catalogue holds no exchange rates.
    """
    if currency != product.currency:
        return BandVerdict(False, f"priced in {currency}; {product.sku}'s list price is in {product.currency}")
    below, above = price_band(product)
    # unit / list within [1 - below%, 1 + above%], multiplied out so no division rounds anything.
    low = product.list_price_minor * (100 - below)
    high = product.list_price_minor * (100 + above)
    if low <= unit_price_minor * 100 <= high:
        return BandVerdict(True)
    lowest, highest = major_text(math.ceil(low / 100), currency), major_text(math.floor(high / 100), currency)
    price = major_text(unit_price_minor, currency)
    return BandVerdict(
        False,
        f"unit price {price} {currency} is outside {product.sku}'s band of {lowest} to {highest} "
        f"(list {major_text(product.list_price_minor, currency)}, -{below}% / +{above}%)",
    )
