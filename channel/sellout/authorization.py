"""Whether a partner may report a sale made on a given day.

Rule for now: the partner is active and existed on that day. There is no dated history of statuses or
tiers yet (it comes with the tiers work); when it does, this function asks it instead, and every caller
(the upload checks, the conflict queue) follows.
"""

from __future__ import annotations

from datetime import date

from tracker.program.models import Partner


def authorized_on(partner: Partner, on: date) -> str | None:
    """None when ``partner`` may report a sale made on ``on``, else the reason it may not."""
    if partner.status != "active":
        return f"partner {partner.id} is {partner.status}, not active in the program"
    joined = partner.created_at.date()
    if on < joined:
        return f"partner {partner.id} joined the program on {joined}, after the invoice date {on}"
    return None
