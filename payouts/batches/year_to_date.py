"""What a payer already owes each partner this calendar year: the base of cumulative bands, caps and thresholds.

Every batch that will pay counts (approved, exported, paid), not only the paid ones: a second batch built
while the first waits at the bank would otherwise price from too small a base (13% where 15% is due).
Drafts do not count (a draft may still change or be voided), nor do voided batches. Only lines priced
under the same regime count, so a partner who moved from one regime to another mid-year has each
regime's income taxed under its own rules.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select

from core.db import db
from payouts.batches.models import PayoutBatch, PayoutLine

COUNTED_STATES = ("approved", "exported", "paid")


def _lines(currency: str, payout_date: date, regime: str | None):
    year = (date(payout_date.year, 1, 1), date(payout_date.year, 12, 31))
    statement = (
        select(func.coalesce(func.sum(PayoutLine.gross_minor), 0))
        .join(PayoutBatch)
        .where(
            PayoutLine.status == "payable",
            PayoutBatch.state.in_(COUNTED_STATES),
            PayoutBatch.currency == currency,
            PayoutBatch.payout_date.between(*year),
        )
    )
    return statement if regime is None else statement.where(PayoutLine.regime == regime)


def year_to_date(partner_id: int, currency: str, payout_date: date, regime: str | None = None) -> int:
    """Gross, in minor units, of the partner's lines in counted batches dated in the payout date's year;
    with ``regime``, only the lines priced under it."""
    statement = _lines(currency, payout_date, regime).where(PayoutLine.partner_id == partner_id)
    return int(db.session.scalar(statement))


def year_to_date_per_regime(currency: str, payout_date: date) -> dict[tuple[int, str], int]:
    """``year_to_date`` of every (partner, regime) with a counted line this year, in one grouped query."""
    rows = db.session.execute(
        _lines(currency, payout_date, None)
        .add_columns(PayoutLine.partner_id, PayoutLine.regime)
        .group_by(PayoutLine.partner_id, PayoutLine.regime)
    )
    return {(partner_id, regime): int(total) for total, partner_id, regime in rows}
