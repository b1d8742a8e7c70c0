"""API keys: one role each, scoped to its own advertiser or partner, stored only as a hash."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import CheckConstraint, ForeignKey, Integer, String, or_, select, update
from sqlalchemy.orm import Mapped, mapped_column

from core.config_cache import watch
from core.db import Model, UtcDateTime, db, utcnow

ROLES = ("admin", "advertiser", "partner", "finance")
# "Last used" is shown to the minute: a busy key writes its row at most once a minute, not on every request.
LAST_USED_RESOLUTION = timedelta(seconds=60)


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
    last_used_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


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


def record_key_use(key_id: int) -> None:
    """Stamp the key's last use unless it was stamped within the last minute (another worker may have).

    A Core UPDATE on the session's connection, not an ORM write: core.config_cache bumps the keys' cache
    version after ORM writes of ApiKey, and a stamp must not make every worker look every key up again.
    """
    now = utcnow()
    table = ApiKey.metadata.tables[ApiKey.__tablename__]
    db.session.connection().execute(
        update(table)
        .where(
            table.c.id == key_id,
            or_(table.c.last_used_at.is_(None), table.c.last_used_at < now - LAST_USED_RESOLUTION),
        )
        .values(last_used_at=now)
    )


def revoke_key(key: ApiKey) -> bool:
    """Revoke the key; False when it already was. An ORM write, so every worker's cached key goes at commit."""
    if key.revoked_at is not None:
        return False
    key.revoked_at = utcnow()
    return True


@dataclass(frozen=True)
class KeyOwner:
    kind: str
    id: int
    name: str | None

    def __str__(self) -> str:
        return f"{self.kind} {self.name or '?'} (#{self.id})"


def key_owner(key: ApiKey) -> KeyOwner | None:
    """The advertiser or partner a key is scoped to, named by table: core does not import the tracker."""
    for kind, owner_id in (("advertiser", key.advertiser_id), ("partner", key.partner_id)):
        if owner_id is not None:
            table = db.metadata.tables[f"{kind}s"]
            name = db.session.scalar(select(table.c.name).where(table.c.id == owner_id))
            return KeyOwner(kind, owner_id, name)
    return None


def all_keys() -> list[ApiKey]:
    return list(db.session.scalars(select(ApiKey).order_by(ApiKey.id)))


def find_keys(*, key_id: int | None = None, prefix: str | None = None) -> list[ApiKey]:
    """Keys by id, or whose shown prefix starts with ``prefix``."""
    query = select(ApiKey).order_by(ApiKey.id)
    if key_id is not None:
        query = query.where(ApiKey.id == key_id)
    if prefix is not None:
        query = query.where(ApiKey.display_prefix.startswith(prefix, autoescape=True))
    return list(db.session.scalars(query))
