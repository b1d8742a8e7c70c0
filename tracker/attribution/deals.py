"""Deal registration: the first partner to register a prospect company holds it for the offer's period."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from core.db import db
from tracker.attribution.customers import InvalidCustomer, normalize_domain, normalize_tax_id
from tracker.attribution.models import DealRegistration
from tracker.program.models import Offer


class DealRefused(ValueError):
    pass


def registration_key(company_domain: str | None, tax_id: str | None) -> tuple[str, str]:
    try:
        if company_domain and not tax_id:
            return ("domain", normalize_domain(company_domain))
        if tax_id and not company_domain:
            return ("tax_id", normalize_tax_id(tax_id))
    except InvalidCustomer as exc:
        raise DealRefused(str(exc)) from None
    raise DealRefused("register a company by exactly one of company_domain or tax_id")


def register_deal(
    offer: Offer, partner_id: int, key: tuple[str, str], company_name: str, now: datetime
) -> DealRegistration:
    key_type, key_value = key
    expires_at = now + timedelta(days=offer.deal_registration_days)
    existing = db.session.scalar(
        select(DealRegistration).where(
            DealRegistration.offer_id == offer.id,
            DealRegistration.key_type == key_type,
            DealRegistration.key_value == key_value,
        )
    )
    if existing is not None and existing.expires_at > now:
        whose = "you" if existing.partner_id == partner_id else "another partner"
        raise DealRefused(
            f"{key_value} is already registered by {whose} for this offer until {existing.expires_at:%Y-%m-%d}"
        )
    if existing is not None:
        # The earlier registration lapsed; the company is free again and the row is reused.
        existing.partner_id, existing.company_name = partner_id, company_name
        existing.registered_at, existing.expires_at, existing.note = now, expires_at, ""
        registration = existing
    else:
        registration = DealRegistration(
            offer_id=offer.id,
            partner_id=partner_id,
            key_type=key_type,
            key_value=key_value,
            company_name=company_name,
            registered_at=now,
            expires_at=expires_at,
        )
        db.session.add(registration)
    try:
        db.session.commit()
    except IntegrityError:
        # Two partners registered the same company at the same moment; the unique key kept the first.
        db.session.rollback()
        raise DealRefused(f"{key_value} was registered by another partner a moment ago") from None
    return registration


def reassign_deal(registration: DealRegistration, partner_id: int, actor: str, reason: str) -> DealRegistration:
    registration.note = (
        f"{registration.note}\n" if registration.note else ""
    ) + f"reassigned from partner {registration.partner_id} to {partner_id} by {actor}: {reason}"
    registration.partner_id = partner_id
    db.session.commit()
    return registration
