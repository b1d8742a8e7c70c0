"""The ledger's answers to what attribution announces: accrue on a new conversion, settle on a status
change, and tell a partner's postback the commission it earned.

They run inside the conversion's transaction (blinker calls receivers synchronously), so a conversion and
its commissions commit together, and a ledger failure rolls the conversion back instead of losing money.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select

from core.db import db
from core.money import major_text
from payouts.ledger.entries import accrue, on_status_change
from payouts.ledger.models import LedgerEntry
from payouts.ledger.queries import commission_totals_by_status
from tracker.attribution.models import Conversion
from tracker.attribution.signals import conversion_recorded, conversion_status_changed
from tracker.postbacks.signals import macros_requested
from tracker.stats.signals import earnings_requested


def accrue_commissions(conversion: Conversion, **_: object) -> None:
    accrue(conversion)


def settle_commissions(conversion: Conversion, *, status: str, **_: object) -> None:
    on_status_change(conversion, status)


def commission_macro(conversion: Conversion, **_: object) -> dict[str, str]:
    """``{commission}``: what the converting partner accrued on this conversion, in major units."""
    row = db.session.execute(
        select(func.sum(LedgerEntry.amount_minor), func.min(LedgerEntry.currency)).where(
            LedgerEntry.conversion_id == conversion.id, LedgerEntry.kind == "accrued", LedgerEntry.role == "partner"
        )
    ).one()
    amount_minor, currency = row
    if amount_minor is None:
        return {}
    return {"commission": major_text(amount_minor, currency)}


def partner_earnings(partner_id: int, *, since: datetime, **_: object) -> dict[str, dict[str, int]]:
    """The dashboard's commissions: what the partner accrued since ``since``, by status and currency."""
    return commission_totals_by_status(partner_id, since)


def connect() -> None:
    conversion_recorded.connect(accrue_commissions)
    conversion_status_changed.connect(settle_commissions)
    macros_requested.connect(commission_macro)
    earnings_requested.connect(partner_earnings)
