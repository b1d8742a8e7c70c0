"""Approving or rejecting an application, once: approval makes the partner and its first person.

Two admins may decide the same application at once. Each decision claims it with one UPDATE that
matches only a pending row, so exactly one of them changes it and the other is told it was decided.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from sqlalchemy import update

from core.db import db, utcnow
from core.people.accounts import PersonError, create_person
from core.people.models import Person
from core.people.resets import mail_is_configured, new_reset_link, request_reset
from tracker.applications.models import PartnerApplication
from tracker.program.models import Partner
from tracker.program.partners import PartnerRefused, add_partner, checked_values


class AlreadyDecided(Exception):
    """Someone decided the application first; the page shows what they decided."""


class ApprovalRefused(ValueError):
    """The partner or its person could not be made from the application; nothing was written."""


@dataclass(frozen=True)
class Approval:
    partner: Partner
    person: Person
    # The password link, when no mail could carry it: shown to the admin once, never stored in plain.
    reset_link: str | None


def _claim(application: PartnerApplication, decider: Person, **values: object) -> None:
    claimed = db.session.execute(
        update(PartnerApplication)
        .where(PartnerApplication.id == application.id, PartnerApplication.status == "pending")
        .values(decided_at=utcnow(), decided_by=decider.id, **values)
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        db.session.rollback()
        db.session.refresh(application)
        raise AlreadyDecided


def reject(application: PartnerApplication, decider: Person, reason: str) -> None:
    """Reject with the admin's reason; commits."""
    if application.status != "pending":
        raise AlreadyDecided
    _claim(application, decider, status="rejected", reason=reason.strip())
    db.session.commit()
    db.session.refresh(application)


def approve(application: PartnerApplication, decider: Person, locale: str) -> Approval:
    """Make the partner (the API's own rules) and its first person, then send that person a password link.

    The person gets a random password no one knows: they choose their own through the link, mailed when
    mail is configured, else returned for the admin to pass on.
    """
    if application.status != "pending":  # the usual case of a second decision; _claim catches the racing one
        raise AlreadyDecided
    partner = _new_partner(application)
    try:
        person = create_person(application.email, secrets.token_urlsafe(32), "partner", partner_id=partner.id)
    except PersonError as error:
        db.session.rollback()
        raise ApprovalRefused(str(error)) from None
    _claim(application, decider, status="approved", partner_id=partner.id)
    db.session.commit()
    db.session.refresh(application)
    if mail_is_configured():
        request_reset(person.email, application.locale or locale)
        return Approval(partner, person, None)
    return Approval(partner, person, new_reset_link(person))


def _new_partner(application: PartnerApplication) -> Partner:
    values = {
        "name": application.company,
        "contact_email": application.email,
        "kind": application.kind,
        "country": application.country,
        "tier": "standard",
        "parent_id": None,
        "status": "active",
    }
    try:
        return add_partner(checked_values(values))
    except PartnerRefused as error:
        db.session.rollback()
        raise ApprovalRefused(str(error)) from None
