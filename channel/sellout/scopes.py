"""Whose sell-out uploads a partner sees: its company's, and, for a distributor, its resellers'."""

from __future__ import annotations

from sqlalchemy import Select, select

from channel.sellout.models import SelloutUpload
from tracker.program.models import Partner


def visible_uploads(partner_id: int) -> Select:
    """The uploads the partner ``partner_id`` sees, in the API and the portal alike."""
    resellers = select(Partner.id).where(Partner.parent_id == partner_id)
    return select(SelloutUpload).where(
        (SelloutUpload.uploader_partner_id == partner_id) | SelloutUpload.uploader_partner_id.in_(resellers)
    )
