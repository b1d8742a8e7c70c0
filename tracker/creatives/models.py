"""Banners: an image for one offer, kept as a file; the row holds what an embed needs to know about it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import Model, UtcDateTime, check_in, utcnow
from tracker.program.models import Offer

BANNER_MIME_TYPES = ("image/png", "image/jpeg", "image/gif", "image/svg+xml")


class Banner(Model):
    """One banner file of an offer. ``file_name`` is under the banner folder; ``sha256`` versions its URL,
    so a file may be cached for a year and a replaced file is still fetched anew."""

    __tablename__ = "banners"
    __table_args__ = (
        CheckConstraint(check_in("mime_type", BANNER_MIME_TYPES), name="mime_type"),
        CheckConstraint("width > 0 AND height > 0", name="dimensions"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    offer_id: Mapped[int] = mapped_column(ForeignKey("offers.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    mime_type: Mapped[str] = mapped_column(String(32))
    file_name: Mapped[str] = mapped_column(String(255), unique=True)
    sha256: Mapped[str] = mapped_column(String(64))  # hex digest of the file
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(String(64))

    offer: Mapped[Offer] = relationship()
