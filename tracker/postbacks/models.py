"""Partner postbacks: each partner's URL template and secret, and every delivery made to it."""

from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.config_cache import watch
from core.db import Model, UtcDateTime, check_in, utcnow
from tracker.attribution.models import Conversion
from tracker.program.models import Partner

DELIVERY_KINDS = ("conversion", "status", "test")
DELIVERY_STATUSES = ("pending", "delivered", "failed")


def new_secret() -> str:
    """64 hex characters: the partner keeps it to verify the signature header of every postback."""
    return secrets.token_hex(32)


class PostbackEndpoint(Model):
    """One postback URL per partner; the unique partner_id makes "set my postback" an upsert."""

    __tablename__ = "postback_endpoints"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("partners.id"), unique=True)
    url_template: Mapped[str] = mapped_column(String(2048))
    secret: Mapped[str] = mapped_column(String(64), default=new_secret)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)

    partner: Mapped[Partner] = relationship()


# Conversions look endpoints up through a per-process cache (tracker.postbacks.messages); a saved one invalidates it.
watch(PostbackEndpoint)


class PostbackDelivery(Model):
    """One postback to send. The URL is rendered when enqueued, so later edits change only new ones."""

    __tablename__ = "postback_deliveries"
    __table_args__ = (
        CheckConstraint(check_in("kind", DELIVERY_KINDS), name="kind"),
        CheckConstraint(check_in("status", DELIVERY_STATUSES), name="status"),
        # Test deliveries carry sample values; every other delivery reports a real conversion.
        CheckConstraint("(kind = 'test') = (conversion_id IS NULL)", name="conversion_unless_test"),
        CheckConstraint("attempts >= 0", name="attempts_not_negative"),
        # The worker's only question: which pending deliveries are due now.
        Index("ix_postback_deliveries_status_next_attempt", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    endpoint_id: Mapped[int] = mapped_column(ForeignKey("postback_endpoints.id"), index=True)
    conversion_id: Mapped[int | None] = mapped_column(ForeignKey("conversions.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    url: Mapped[str] = mapped_column(String(2048))
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(UtcDateTime)

    endpoint: Mapped[PostbackEndpoint] = relationship()
    conversion: Mapped[Conversion | None] = relationship()
