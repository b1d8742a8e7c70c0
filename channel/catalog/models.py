"""The vendor's product catalogue: product families, products and dated promotions.

A product's points and list price are what sell-out rows are checked and rewarded against, so every
number has a CHECK beside the API's own validation: a row written by another path cannot hold a negative
price, negative points, an eligibility that ends before it starts or a multiplier of zero.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import BigInteger, Boolean, CheckConstraint, Date, ForeignKey, Index, Integer, Numeric, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import Model, UtcDateTime, utcnow

SKU_MAX_LENGTH = 64
SERIAL_PATTERN_MAX_LENGTH = 200
# Percent below and above a list price a reported unit price may lie: two digits after the point.
BAND_PERCENT = Numeric(5, 2)
# A promotion's factor: at most three decimals (1.125), stored exactly.
MULTIPLIER = Numeric(6, 3)
MAX_MULTIPLIER = 100


class ProductFamily(Model):
    __tablename__ = "catalog_families"
    __table_args__ = (
        # A family either sets both sides of its price band or leaves both to the program's default.
        CheckConstraint(
            "(price_below_percent IS NULL) = (price_above_percent IS NULL)"
            " AND (price_below_percent IS NULL OR (price_below_percent >= 0 AND price_below_percent <= 100"
            " AND price_above_percent >= 0 AND price_above_percent <= 999))",
            name="price_band",
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    # A regular expression every serial number of the family must match whole (channel.catalog.serials);
    # null where the family's products carry no serial numbers.
    serial_pattern: Mapped[str | None] = mapped_column(String(SERIAL_PATTERN_MAX_LENGTH))
    price_below_percent: Mapped[Decimal | None] = mapped_column(BAND_PERCENT)
    price_above_percent: Mapped[Decimal | None] = mapped_column(BAND_PERCENT)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class Product(Model):
    __tablename__ = "catalog_products"
    __table_args__ = (
        CheckConstraint("list_price_minor >= 0", name="list_price"),
        CheckConstraint("points_per_unit >= 0", name="points"),
        CheckConstraint("eligible_to IS NULL OR eligible_to >= eligible_from", name="eligibility"),
        CheckConstraint("length(sku) > 0", name="sku"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # Upper case as stored (channel.catalog.schemas): a sell-out row typed "ab-100" finds "AB-100".
    sku: Mapped[str] = mapped_column(String(SKU_MAX_LENGTH), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    family_id: Mapped[int] = mapped_column(ForeignKey("catalog_families.id"), index=True)
    list_price_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    points_per_unit: Mapped[int] = mapped_column(Integer)
    # Both days included; no end means eligible until one is set.
    eligible_from: Mapped[date] = mapped_column(Date)
    eligible_to: Mapped[date | None] = mapped_column(Date)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_by: Mapped[str] = mapped_column(String(64))

    family: Mapped[ProductFamily] = relationship(lazy="joined")


class Promotion(Model):
    """A multiplier on points earned between two days (both included), for one SKU, family or partner tier."""

    __tablename__ = "catalog_promotions"
    __table_args__ = (
        CheckConstraint(f"multiplier > 0 AND multiplier <= {MAX_MULTIPLIER}", name="multiplier"),
        CheckConstraint("ends_on >= starts_on", name="dates"),
        CheckConstraint(
            "(CASE WHEN product_id IS NULL THEN 0 ELSE 1 END) + (CASE WHEN family_id IS NULL THEN 0 ELSE 1 END)"
            " + (CASE WHEN partner_tier IS NULL THEN 0 ELSE 1 END) = 1",
            name="one_target",
        ),
        # points_for() asks for the promotions running on a day; targets are few, days narrow them.
        Index("ix_catalog_promotions_days", "starts_on", "ends_on"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    multiplier: Mapped[Decimal] = mapped_column(MULTIPLIER)
    product_id: Mapped[int | None] = mapped_column(ForeignKey("catalog_products.id"), index=True)
    family_id: Mapped[int | None] = mapped_column(ForeignKey("catalog_families.id"), index=True)
    partner_tier: Mapped[str | None] = mapped_column(String(32))
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    product: Mapped[Product | None] = relationship(lazy="joined")
    family: Mapped[ProductFamily | None] = relationship(lazy="joined")
