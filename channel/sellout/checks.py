"""Judging typed sell-out rows against the catalogue, the partners and the program's rules, a batch at a time.

What the rows name (products, partners) is loaded once per batch for every row that names it, and kept
for the rest of the file, so a 100,000-row file asks the database a few times per thousand rows, never
once per row. Each rule answers the reason a person can act on; a row stops at its first broken rule.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from functools import lru_cache
from typing import Any

from sqlalchemy import select
from stdnum.eu import vat as eu_vat
from stdnum.util import get_cc_module

from channel.catalog.models import Product, Promotion
from channel.catalog.products import is_eligible, price_in_band
from channel.catalog.promotions import apply_multipliers
from channel.catalog.serials import serial_matches
from channel.sellout.access import authorized_on
from channel.sellout.rows import SaleRow
from core.db import db
from tracker.program.models import Partner

# The open period (a program setting kept here, README "Sell-out"): an invoice older than this many days
# is refused, since the quarter's rebates and reports built on it are closed by then.
OPEN_PERIOD_DAYS = 90
IN_CHUNK = 1000


@dataclass
class Scope:
    """Who uploads: an admin (``partner`` None) for anyone, a partner for itself, a distributor for its resellers."""

    partner: Partner | None
    resellers: frozenset[int] = frozenset()

    def refuses(self, row: SaleRow) -> str | None:
        if self.partner is None:
            return None
        own = self.partner.id
        if self.partner.kind == "distributor":
            if row.distributor_id != own:
                return f"distributor_key {row.distributor_id}: a distributor reports only its own sales ({own})"
            if row.partner_id != own and row.partner_id not in self.resellers:
                return f"partner_key {row.partner_id} is not one of distributor {own}'s resellers"
            return None
        if row.partner_id != own:
            return f"partner_key {row.partner_id}: a partner key reports only its own sales ({own})"
        return None


def scope_of(partner: Partner | None) -> Scope:
    if partner is None or partner.kind != "distributor":
        return Scope(partner)
    resellers = db.session.scalars(select(Partner.id).where(Partner.parent_id == partner.id))
    return Scope(partner, frozenset(resellers))


@lru_cache(maxsize=64)
def _tax_module(country: str) -> Any:
    return get_cc_module(country.lower(), "vat") or get_cc_module(country.lower(), "tin")


def tax_id_problem(country: str, tax_id: str) -> str | None:
    """Why an end customer's tax id is not one of the ship-to country's (python-stdnum), or None.

    An EU VAT number with its country prefix is accepted for any EU country; a country python-stdnum has
    no tax id format for is accepted unchecked.
    """
    module = _tax_module(country)
    if module is None or module.is_valid(tax_id) or eu_vat.is_valid(tax_id):
        return None
    kind = ".".join(module.__name__.split(".")[1:])
    return f"customer_tax_id {tax_id!r} is not a valid tax id of {country} (python-stdnum {kind})"


@dataclass
class Catalogue:
    """The products, partners and promotions a file's rows name, loaded in bulk and kept for the whole file."""

    today: date
    products: dict[str, Product | None] = field(default_factory=dict)
    partners: dict[int, Partner | None] = field(default_factory=dict)
    promotions: list[Promotion] = field(default_factory=list)

    def __post_init__(self) -> None:
        start = self.today - timedelta(days=OPEN_PERIOD_DAYS)
        statement = select(Promotion).where(Promotion.ends_on >= start, Promotion.starts_on <= self.today)
        self.promotions = list(db.session.scalars(statement))

    def load(self, rows: Iterable[SaleRow]) -> None:
        rows = list(rows)
        skus = {row.sku for row in rows} - self.products.keys()
        ids = {row.partner_id for row in rows} | {row.distributor_id for row in rows}
        for chunk in _chunks(sorted(skus)):
            self.products.update(dict.fromkeys(chunk))
            self.products.update({p.sku: p for p in db.session.scalars(select(Product).where(Product.sku.in_(chunk)))})
        for chunk in _chunks(sorted(ids - self.partners.keys())):
            self.partners.update(dict.fromkeys(chunk))
            self.partners.update({p.id: p for p in db.session.scalars(select(Partner).where(Partner.id.in_(chunk)))})

    def points(self, product: Product, quantity: int, on: date, tier: str | None) -> int:
        """``channel.catalog.promotions.points_for`` over the promotions loaded once (the same rule, no query)."""
        multipliers: list[Decimal] = [
            promotion.multiplier
            for promotion in self.promotions
            if promotion.starts_on <= on <= promotion.ends_on
            and (
                promotion.product_id == product.id
                or promotion.family_id == product.family_id
                or (tier is not None and promotion.partner_tier == tier)
            )
        ]
        return apply_multipliers(product.points_per_unit, quantity, multipliers)


def _chunks(items: list[Any]) -> Iterable[list[Any]]:
    for start in range(0, len(items), IN_CHUNK):
        yield items[start : start + IN_CHUNK]


def _partners_problem(row: SaleRow, catalogue: Catalogue) -> str | None:
    partner = catalogue.partners.get(row.partner_id)
    if partner is None:
        return f"partner_key {row.partner_id} is no partner of the program"
    distributor = catalogue.partners.get(row.distributor_id)
    if distributor is None or distributor.kind != "distributor":
        return f"distributor_key {row.distributor_id} is no distributor of the program"
    return authorized_on(partner, row.invoice_date)


def _period_problem(row: SaleRow, today: date) -> str | None:
    if row.invoice_date > today:
        return f"invoice_date {row.invoice_date} is in the future"
    opens = today - timedelta(days=OPEN_PERIOD_DAYS)
    if row.invoice_date < opens:
        return f"invoice_date {row.invoice_date} is before the open period (from {opens}, {OPEN_PERIOD_DAYS} days)"
    return None


def _product_problem(row: SaleRow, product: Product | None) -> str | None:
    if product is None:
        return f"SKU {row.sku} is not in the catalogue"
    if not is_eligible(product, row.invoice_date):
        until = f" to {product.eligible_to}" if product.eligible_to else ""
        state = "" if product.active else " (withdrawn)"
        return f"SKU {row.sku} is not eligible on {row.invoice_date} (eligible {product.eligible_from}{until}{state})"
    verdict = price_in_band(product, row.unit_price_minor, row.currency)
    return None if verdict else verdict.reason


def _serial_problem(row: SaleRow, product: Product) -> str | None:
    pattern = product.family.serial_pattern
    if pattern is None:
        return None if row.serial is None else f"serial: {row.sku}'s family has no serial numbers; leave it blank"
    if row.serial is None:
        return f"serial: required for {row.sku} (family {product.family.code})"
    if not serial_matches(pattern, row.serial):
        return f"serial {row.serial!r} does not match family {product.family.code}'s format"
    if abs(row.quantity) != 1:
        return f"quantity: a row with a serial number is one unit (1, or -1 for its return), not {row.quantity}"
    return None


def row_problem(row: SaleRow, scope: Scope, catalogue: Catalogue) -> str | None:
    """The first rule the row breaks, or None; the product it names is loaded already (``Catalogue.load``)."""
    product = catalogue.products.get(row.sku)
    for problem in (
        scope.refuses(row),
        _partners_problem(row, catalogue),
        _period_problem(row, catalogue.today),
        _product_problem(row, product),
    ):
        if problem:
            return problem
    assert product is not None  # _product_problem refused a missing one
    problem = _serial_problem(row, product)
    if problem is None and row.customer_tax_id is not None:
        problem = tax_id_problem(row.ship_country, row.customer_tax_id)
    return problem
