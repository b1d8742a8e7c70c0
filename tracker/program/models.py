"""The program's objects: advertisers, their offers, partners, partner links, and the clicks on them."""

from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy import JSON, BigInteger, Boolean, CheckConstraint, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import Model, UtcDateTime, check_in, utcnow

OFFER_STATUSES = ("active", "paused")
CONFLICT_RULES = ("token_wins", "binding_wins")
PARTNER_STATUSES = ("active", "pending", "suspended")
PARTNER_KINDS = ("affiliate", "reseller", "distributor", "agency", "cpa", "cross_marketing")
# "human" is the only class counted as a click; the others are redirected but never attributed, except a
# prefetch that the person's own visit confirms, which becomes "human" (tracker/clicks/confirmations.py).
TRAFFIC_CLASSES = ("human", "bot", "preview", "prefetch", "head")
PREFETCH_CONFIRMED_CHECK = "prefetch_confirmed_at IS NULL OR traffic = 'human'"
SUB_IDS = ("sub1", "sub2", "sub3", "sub4", "sub5")
# Where a conversion comes from: "api" is server to server with the advertiser's own key, "pixel" is a
# URL any browser can call. tracker.attribution.models.SOURCES is this list.
CONVERSION_SOURCES = ("api", "pixel")


def new_pixel_secret() -> str:
    return secrets.token_hex(32)


class Advertiser(Model):
    __tablename__ = "advertisers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    contact_email: Mapped[str] = mapped_column(String(254))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class Offer(Model):
    __tablename__ = "offers"
    __table_args__ = (
        CheckConstraint(check_in("status", OFFER_STATUSES), name="status"),
        CheckConstraint(
            "click_window_days > 0 AND lead_window_days > 0 AND hold_days >= 0 AND deal_registration_days > 0",
            name="windows",
        ),
        CheckConstraint(check_in("conflict_rule", CONFLICT_RULES), name="conflict_rule"),
        CheckConstraint(
            "(review_above_minor IS NULL) = (review_above_currency IS NULL)"
            " AND (review_above_minor IS NULL OR review_above_minor >= 0)",
            name="review_above",
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    advertiser_id: Mapped[int] = mapped_column(ForeignKey("advertisers.id"), index=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    landing_url: Mapped[str] = mapped_column(String(2048))
    allowed_hosts: Mapped[list[str]] = mapped_column(JSON, default=list)
    token_param: Mapped[str] = mapped_column(String(32), default="atk")
    fallback_url: Mapped[str | None] = mapped_column(String(2048))
    click_window_days: Mapped[int] = mapped_column(Integer, default=90)
    lead_window_days: Mapped[int] = mapped_column(Integer, default=365)
    hold_days: Mapped[int] = mapped_column(Integer, default=30)
    status: Mapped[str] = mapped_column(String(16), default="active")
    # Event names beyond "lead" and "sale" that this offer accepts (e.g. "demo_booked").
    custom_events: Mapped[list[str]] = mapped_column(JSON, default=list)
    # When a click carrier and an older customer binding name different partners.
    conflict_rule: Mapped[str] = mapped_column(String(16), default="token_wins")
    pixel_requires_approval: Mapped[bool] = mapped_column(Boolean, default=False)
    deal_registration_days: Mapped[int] = mapped_column(Integer, default=180)
    # Sources whose pending conversions earn payable commissions without the advertiser approving each
    # one. "api" by default: only the advertiser's own key can send it. An unsigned pixel is a URL anyone
    # can fire with any amount, so "pixel" is trusted only if the offer lists it on purpose.
    trusted_channels: Mapped[list[str]] = mapped_column(JSON, default=lambda: ["api"])
    # The advertiser's page signs each pixel with pixel_secret (tracker/attribution/signing.py); unsigned
    # or wrongly signed pixels are refused, and signed ones are trusted.
    pixel_signing: Mapped[bool] = mapped_column(Boolean, default=False)
    pixel_secret: Mapped[str] = mapped_column(String(64), default=new_pixel_secret)
    # A conversion above this amount is held for review; one in another currency too, as it cannot be compared.
    review_above_minor: Mapped[int | None] = mapped_column(BigInteger)
    review_above_currency: Mapped[str | None] = mapped_column(String(3))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    advertiser: Mapped[Advertiser] = relationship()

    def accepts_event(self, event: str) -> bool:
        return event in ("lead", "sale") or event in self.custom_events

    def trusted_sources(self) -> set[str]:
        """Sources whose pending conversions may be paid after the hold without the advertiser's approval."""
        return set(self.trusted_channels) | ({"pixel"} if self.pixel_signing else set())


class Partner(Model):
    __tablename__ = "partners"
    __table_args__ = (
        CheckConstraint(check_in("status", PARTNER_STATUSES), name="status"),
        CheckConstraint(check_in("kind", PARTNER_KINDS), name="kind"),
        CheckConstraint("parent_id IS NULL OR parent_id <> id", name="not_own_parent"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    contact_email: Mapped[str] = mapped_column(String(254))
    kind: Mapped[str] = mapped_column(String(32))
    country: Mapped[str] = mapped_column(String(2))
    tier: Mapped[str] = mapped_column(String(32), default="standard")
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("partners.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), default="active")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    parent: Mapped[Partner | None] = relationship(remote_side=[id])


class Link(Model):
    __tablename__ = "links"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("partners.id"), index=True)
    offer_id: Mapped[int] = mapped_column(ForeignKey("offers.id"), index=True)
    sub1: Mapped[str | None] = mapped_column(String(255))
    sub2: Mapped[str | None] = mapped_column(String(255))
    sub3: Mapped[str | None] = mapped_column(String(255))
    sub4: Mapped[str | None] = mapped_column(String(255))
    sub5: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    partner: Mapped[Partner] = relationship()
    offer: Mapped[Offer] = relationship()


class Click(Model):
    """One redirect served. The id comes from the click path, so replays from the stream are no-ops."""

    __tablename__ = "clicks"
    __table_args__ = (
        CheckConstraint(check_in("traffic", TRAFFIC_CLASSES), name="traffic"),
        CheckConstraint(PREFETCH_CONFIRMED_CHECK, name="prefetch_confirmed"),
        Index("ix_clicks_partner_created", "partner_id", "created_at"),
        Index("ix_clicks_offer_created", "offer_id", "created_at"),
        Index("ix_clicks_link_visitor", "link_id", "visitor_hash", "created_at"),
        # The fraud check counts an offer's clicks from one network around a conversion's click.
        Index("ix_clicks_offer_network", "offer_id", "ip_prefix", "created_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    link_id: Mapped[int] = mapped_column(ForeignKey("links.id"))
    offer_id: Mapped[int] = mapped_column(ForeignKey("offers.id"))
    partner_id: Mapped[int] = mapped_column(ForeignKey("partners.id"))
    ref_code: Mapped[str] = mapped_column(String(9), unique=True)
    sub1: Mapped[str | None] = mapped_column(String(255))
    sub2: Mapped[str | None] = mapped_column(String(255))
    sub3: Mapped[str | None] = mapped_column(String(255))
    sub4: Mapped[str | None] = mapped_column(String(255))
    sub5: Mapped[str | None] = mapped_column(String(255))
    traffic: Mapped[str] = mapped_column(String(10))
    device: Mapped[str] = mapped_column(String(16))
    os: Mapped[str] = mapped_column(String(64))
    browser: Mapped[str] = mapped_column(String(64))
    # Truncated to /24 (IPv4) or /48 (IPv6): the raw address is never stored.
    ip_prefix: Mapped[str | None] = mapped_column(String(64))
    # Keyed hash of address and user agent under a salt that changes every UTC day.
    visitor_hash: Mapped[str] = mapped_column(String(32))
    is_unique: Mapped[bool] = mapped_column(Boolean)
    deep_link: Mapped[str | None] = mapped_column(String(2048))
    referrer_host: Mapped[str | None] = mapped_column(String(255))
    # Set when a prefetch was confirmed as the person's visit: the click is "human" from then on, and this
    # keeps that it was a prefetch and when the visit was seen.
    prefetch_confirmed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
