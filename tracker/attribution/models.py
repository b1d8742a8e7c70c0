"""Conversions and what attributes them: customer bindings, deal registrations, coupons."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, CheckConstraint, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import Model, UtcDateTime, check_in, utcnow
from tracker.program.models import CONVERSION_SOURCES, Offer, Partner

CONVERSION_STATUSES = ("pending", "review", "approved", "rejected", "reversed")
CARRIERS = ("token", "ref_code", "coupon", "customer", "deal")
CUSTOMER_KEYS = ("email", "domain", "tax_id")
SOURCES = CONVERSION_SOURCES


class Conversion(Model):
    __tablename__ = "conversions"
    __table_args__ = (
        # Advertisers resend the same order (retries, page reloads); this key makes a resend a no-op.
        UniqueConstraint("offer_id", "event", "order_id", name="uq_conversions_offer_event_order"),
        CheckConstraint("(amount_minor IS NULL) = (currency IS NULL)", name="amount_has_currency"),
        CheckConstraint("amount_minor IS NULL OR amount_minor >= 0", name="amount_not_negative"),
        CheckConstraint(check_in("status", CONVERSION_STATUSES), name="status"),
        CheckConstraint(check_in("source", SOURCES), name="source"),
        Index("ix_conversions_partner_occurred", "partner_id", "occurred_at"),
        Index("ix_conversions_offer_occurred", "offer_id", "occurred_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    offer_id: Mapped[int] = mapped_column(ForeignKey("offers.id"))
    event: Mapped[str] = mapped_column(String(64))
    order_id: Mapped[str] = mapped_column(String(128))
    amount_minor: Mapped[int | None] = mapped_column(BigInteger)
    currency: Mapped[str | None] = mapped_column(String(3))
    occurred_at: Mapped[datetime] = mapped_column(UtcDateTime)
    received_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    source: Mapped[str] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(16))
    partner_id: Mapped[int | None] = mapped_column(ForeignKey("partners.id"))
    click_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("clicks.id"), index=True)
    carrier: Mapped[str | None] = mapped_column(String(16))
    customer_email: Mapped[str | None] = mapped_column(String(254))
    customer_domain: Mapped[str | None] = mapped_column(String(253), index=True)
    customer_tax_id: Mapped[str | None] = mapped_column(String(64))
    coupon_code: Mapped[str | None] = mapped_column(String(64))
    ip_prefix: Mapped[str | None] = mapped_column(String(64))
    # Why the conversion is held for review (fraud signals, conflicts, pixel approval), empty if none.
    review_reasons: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Carriers that were present but refused, and any conflict between carriers, with reasons.
    attribution_notes: Mapped[dict] = mapped_column(JSON, default=dict)

    offer: Mapped[Offer] = relationship()
    partner: Mapped[Partner | None] = relationship()


class ConversionEvent(Model):
    """Every status change, with who made it and why; conversions never change status silently."""

    __tablename__ = "conversion_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    conversion_id: Mapped[int] = mapped_column(ForeignKey("conversions.id"), index=True)
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str] = mapped_column(String(16))
    actor: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class CustomerBinding(Model):
    """A customer key (email, company domain, tax id) bound to the partner whose lead brought it."""

    __tablename__ = "customer_bindings"
    __table_args__ = (
        UniqueConstraint("offer_id", "key_type", "key_value", name="uq_customer_bindings_key"),
        CheckConstraint(check_in("key_type", CUSTOMER_KEYS), name="key_type"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    offer_id: Mapped[int] = mapped_column(ForeignKey("offers.id"))
    key_type: Mapped[str] = mapped_column(String(8))
    key_value: Mapped[str] = mapped_column(String(254))
    partner_id: Mapped[int] = mapped_column(ForeignKey("partners.id"))
    conversion_id: Mapped[int] = mapped_column(ForeignKey("conversions.id"))
    bound_at: Mapped[datetime] = mapped_column(UtcDateTime)


class DealRegistration(Model):
    """A partner's claim on a prospect company for an offer, first come first served for a period."""

    __tablename__ = "deal_registrations"
    __table_args__ = (
        UniqueConstraint("offer_id", "key_type", "key_value", name="uq_deal_registrations_key"),
        CheckConstraint("key_type IN ('domain', 'tax_id')", name="key_type"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    offer_id: Mapped[int] = mapped_column(ForeignKey("offers.id"))
    partner_id: Mapped[int] = mapped_column(ForeignKey("partners.id"), index=True)
    key_type: Mapped[str] = mapped_column(String(8))
    key_value: Mapped[str] = mapped_column(String(254))
    company_name: Mapped[str] = mapped_column(String(200), default="")
    registered_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    note: Mapped[str] = mapped_column(Text, default="")


class Coupon(Model):
    __tablename__ = "coupons"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # Stored upper-case so "spring25" and "SPRING25" are one code.
    code: Mapped[str] = mapped_column(String(64), unique=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("partners.id"), index=True)
    offer_id: Mapped[int] = mapped_column(ForeignKey("offers.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class PixelError(Model):
    """A pixel request that could not be recorded; the browser still got its GIF."""

    __tablename__ = "pixel_errors"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    offer_slug: Mapped[str] = mapped_column(String(64), index=True)
    reason: Mapped[str] = mapped_column(String(500))
    query: Mapped[str] = mapped_column(String(2048))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
