"""Adding and changing partners: the rules the partners API and the admins' pages share.

Overrides pay one level up (a distributor over its resellers), so a partner's parent never has a parent of
its own, and a partner that is a parent takes none: deeper chains are refused, not guessed.
"""

from __future__ import annotations

from collections.abc import Mapping

from pydantic import ValidationError
from sqlalchemy import select

from core.db import db
from tracker.program.models import Partner
from tracker.program.schemas import PartnerIn


class PartnerRefused(ValueError):
    """The partner cannot be added or changed as asked: the message says why, ``fields`` which field each is for."""

    def __init__(self, message: str, fields: dict[str, list[str]] | None = None):
        super().__init__(message)
        self.fields = fields or {}


def checked_values(values: Mapping[str, object]) -> PartnerIn:
    """Plain values (a form's) checked by the API's own schema, so a page refuses what the API refuses."""
    try:
        return PartnerIn.model_validate(values)
    except ValidationError as error:
        fields: dict[str, list[str]] = {}
        for problem in error.errors(include_url=False, include_input=False):
            name = str(problem["loc"][0]) if problem["loc"] else ""
            fields.setdefault(name, []).append(problem["msg"])
        summary = "; ".join(f"{name}: {', '.join(reasons)}" for name, reasons in fields.items())
        raise PartnerRefused(summary, fields) from None


def check_parent(parent_id: int | None, partner_id: int | None = None) -> None:
    """Refuse a parent that does not exist, is the partner itself, or already has a parent."""
    if parent_id is None:
        return
    if parent_id == partner_id:
        raise PartnerRefused("a partner cannot be its own parent")
    parent = db.session.get(Partner, parent_id)
    if parent is None:
        raise PartnerRefused(f"parent partner {parent_id} does not exist")
    if parent.parent_id is not None:
        raise PartnerRefused(f"partner {parent_id} already has a parent; nest one level only")
    if partner_id is not None and _has_children(partner_id):
        raise PartnerRefused(f"partner {partner_id} is a parent itself; nest one level only")


def _has_children(partner_id: int) -> bool:
    return db.session.scalar(select(Partner.id).where(Partner.parent_id == partner_id).limit(1)) is not None


def add_partner(values: PartnerIn) -> Partner:
    """Add a checked partner to the session and flush it for its id; the caller commits."""
    check_parent(values.parent_id)
    partner = Partner(**values.model_dump())
    db.session.add(partner)
    db.session.flush()
    return partner


def partner_values(partner: Partner) -> dict[str, object]:
    """The partner as PartnerIn's fields, for checking a change with the same schema as a new partner."""
    return {name: getattr(partner, name) for name in PartnerIn.model_fields}


def change_partner(partner: Partner, values: PartnerIn) -> None:
    """Apply checked values (from PartnerIn, so the same rules as a new partner); the caller commits."""
    check_parent(values.parent_id, partner.id)
    for name, value in values.model_dump().items():
        setattr(partner, name, value)
