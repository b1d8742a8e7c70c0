"""What a partner already did in a plan's periods before one conversion: the ``PeriodVolume`` it is priced with.

"Before" means recorded earlier (a lower conversion id) and occurring in the same calendar period. Arrival
order, not ``occurred_at`` order, because an accrued commission is never re-priced: a backdated sale that
arrives late must not change what earlier sales already earned, and it is priced on what was there.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, case, exists, func, select
from sqlalchemy.orm import aliased

from core.db import db
from payouts.commissions.calculation import PeriodVolume
from payouts.commissions.rules import EventRule, PlanRules, period_start
from payouts.ledger.models import LedgerEntry
from tracker.attribution.models import Conversion

_MONTHS = {"month": 1, "quarter": 3, "year": 12}
# Conversions the advertiser turned down are no volume: they neither lift a partner into a step nor
# use up a cap.
_NOT_COUNTED = ("rejected", "reversed")


def period_bounds(period: str, moment: datetime) -> tuple[datetime, datetime]:
    start = period_start(period, moment)
    months = start.month - 1 + _MONTHS[period]
    return start, start.replace(year=start.year + months // 12, month=months % 12 + 1)


def volume_before(plan: PlanRules, rule: EventRule, conversion: Conversion) -> PeriodVolume:
    count = amount = earned_count = earned_minor = 0
    if rule.volume_tiers is not None:
        count, amount = _conversion_volume(plan, conversion, rule.volume_tiers.period)
    if rule.cap is not None:
        earned_count, earned_minor = _commission_volume(plan, conversion, rule.cap.period)
    return PeriodVolume(count=count, amount_minor=amount, commission_count=earned_count, commission_minor=earned_minor)


def _earlier_in_period(conversion: Conversion, period: str):
    start, end = period_bounds(period, conversion.occurred_at)
    return and_(
        Conversion.offer_id == conversion.offer_id,
        Conversion.event == conversion.event,
        Conversion.partner_id == conversion.partner_id,
        Conversion.id < conversion.id,
        Conversion.occurred_at >= start,
        Conversion.occurred_at < end,
        Conversion.status.not_in(_NOT_COUNTED),
    )


def _conversion_volume(plan: PlanRules, conversion: Conversion, period: str) -> tuple[int, int]:
    # Amounts in another currency cannot be added to the plan's; they still count as conversions.
    in_plan_currency = case((Conversion.currency == plan.currency, Conversion.amount_minor), else_=0)
    row = db.session.execute(
        select(func.count(), func.coalesce(func.sum(in_plan_currency), 0)).where(_earlier_in_period(conversion, period))
    ).one()
    return int(row[0]), int(row[1])


def _commission_volume(plan: PlanRules, conversion: Conversion, period: str) -> tuple[int, int]:
    """The partner's own commissions for the event in the cap period, less those reversed or clawed back."""
    accrual, later = LedgerEntry, aliased(LedgerEntry)
    cancelled = exists().where(later.settles_id == accrual.id, later.kind.in_(("reversed", "clawed_back")))
    earned = (
        select(func.count(), func.coalesce(func.sum(accrual.amount_minor), 0))
        .join(Conversion, Conversion.id == accrual.conversion_id)
        .where(
            accrual.kind == "accrued",
            accrual.role == "partner",
            accrual.partner_id == conversion.partner_id,
            accrual.offer_id == conversion.offer_id,
            accrual.currency == plan.currency,
            accrual.amount_minor > 0,
            ~cancelled,
            _earlier_in_period(conversion, period),
        )
    )
    row = db.session.execute(earned).one()
    return int(row[0]), int(row[1])
