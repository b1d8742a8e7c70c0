"""API keys: one role each, scoped to its own advertiser or partner, stored only as a hash."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Integer, String, select
from sqlalchemy.orm import Mapped, mapped_column

from core.config_cache import watch
from core.db import Model, UtcDateTime, db, utcnow

ROLES = ("admin", "advertiser", "partner", "finance")


class ApiKey(Model):
    __tablename__ = "api_keys"
    __table_args__ = (
        CheckConstraint("role IN ('admin', 'advertiser', 'partner', 'finance')", name="role"),
        CheckConstraint(
            "(role = 'advertiser') = (advertiser_id IS NOT NULL) AND (role = 'partner') = (partner_id IS NOT NULL)",
            name="scope",
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    display_prefix: Mapped[str] = mapped_column(String(16))
    role: Mapped[str] = mapped_column(String(16))
    advertiser_id: Mapped[int | None] = mapped_column(ForeignKey("advertisers.id"), index=True)
    partner_id: Mapped[int | None] = mapped_column(ForeignKey("partners.id"), index=True)
    label: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


watch(ApiKey)


def hash_key(plaintext: str) -> str:
    # Keys carry 256 random bits, so a plain SHA-256 is enough: there is nothing to brute-force.
    return hashlib.sha256(plaintext.encode()).hexdigest()


def issue_key(
    role: str, *, advertiser_id: int | None = None, partner_id: int | None = None, label: str = ""
) -> tuple[ApiKey, str]:
    """Create a key and return it with its plaintext, which is shown once and never stored."""
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}")
    if (role == "advertiser") != (advertiser_id is not None):
        raise ValueError("an advertiser key needs an advertiser id, and only it")
    if (role == "partner") != (partner_id is not None):
        raise ValueError("a partner key needs a partner id, and only it")
    plaintext = f"hk_{role[:3]}_{secrets.token_urlsafe(32)}"
    key = ApiKey(
        key_hash=hash_key(plaintext),
        display_prefix=plaintext[:12],
        role=role,
        advertiser_id=advertiser_id,
        partner_id=partner_id,
        label=label,
    )
    db.session.add(key)
    return key, plaintext


def find_active_key(plaintext: str) -> ApiKey | None:
    return db.session.scalar(select(ApiKey).where(ApiKey.key_hash == hash_key(plaintext), ApiKey.revoked_at.is_(None)))
