"""Who may report sell-out and who sees it: a partner authorized on the sale's day, and the uploads a partner sees.

Authorization for now: the partner is active and existed on that day. There is no dated history of
statuses or tiers yet (it comes with the tiers work); when it does, ``authorized_on`` asks it instead, and
every caller (the upload checks, the conflict queue) follows.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import Select, select

from channel.sellout.models import SelloutUpload
from tracker.program.models import Partner


def authorized_on(partner: Partner, on: date) -> str | None:
    """None when ``partner`` may report a sale made on ``on``, else the reason it may not."""
    if partner.status != "active":
        return f"partner {partner.id} is {partner.status}, not active in the program"
    joined = partner.created_at.date()
    if on < joined:
        return f"partner {partner.id} joined the program on {joined}, after the invoice date {on}"
    return None


def visible_uploads(partner_id: int) -> Select:
    """The uploads the partner ``partner_id`` sees, in the API and the portal alike: its company's, and, for a
    distributor, its resellers'."""
    resellers = select(Partner.id).where(Partner.parent_id == partner_id)
    return select(SelloutUpload).where(
        (SelloutUpload.uploader_partner_id == partner_id) | SelloutUpload.uploader_partner_id.in_(resellers)
    )
