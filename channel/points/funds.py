"""The bonus fund: the budget accruals draw on, the program's point settings, and what finance owes on it.

``drawn`` is what the fund has handed out net: accruals and positive adjustments, less reversals and
negative adjustments. Spent and expired points stay drawn (the budget is what may ever be issued), so an
expiry never makes room for new accruals. ``liability`` is every entry's points on the fund summed: earned
(pending included) and not yet spent or expired, in money at the fund's point value.

Every draw locks the fund row (``lock_active_fund``) before reading ``drawn``: two accruals racing for
its last points take turns, and the second reads what the first committed and is refused.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import case, func, select, update

from channel.points.balances import is_pending
from channel.points.models import PointsEntry, PointsFund
from core.db import db
from core.money import InvalidAmount, minor_digits

DRAWING_KINDS = ("accrued", "reversed", "adjusted")


class PointsRefused(ValueError):
    """A points write that may not happen (no fund, fund exhausted, beyond the balance); the message says why."""


@dataclass(frozen=True)
class FundReport:
    fund: PointsFund
    drawn: int
    pending: int
    spent: int  # positive: points spent on rewards
    expired: int  # positive
    liability: int  # earned, not yet spent or expired (pending included)

    @property
    def left(self) -> int:
        return self.fund.budget_points - self.drawn

    @property
    def liability_minor(self) -> int:
        return self.liability * self.fund.point_value_minor


def active_fund() -> PointsFund | None:
    return db.session.scalar(select(PointsFund).where(PointsFund.active.is_(True)))


def lock_active_fund() -> PointsFund:
    """The active fund, locked until the transaction ends; refused when there is none."""
    fund = db.session.scalar(select(PointsFund).where(PointsFund.active.is_(True)).with_for_update())
    if fund is None:
        raise PointsRefused("no active bonus fund: open one with `flask --app app channel points-fund`")
    return fund


def drawn(fund_id: int) -> int:
    total = db.session.scalar(
        select(func.coalesce(func.sum(PointsEntry.points), 0)).where(
            PointsEntry.fund_id == fund_id, PointsEntry.kind.in_(DRAWING_KINDS)
        )
    )
    return int(total or 0)


def check_draw(fund: PointsFund, points: int) -> None:
    """Refuse ``points`` more than the locked ``fund`` has left."""
    left = fund.budget_points - drawn(fund.id)
    if points > left:
        raise PointsRefused(exhausted(fund, left, points))


def exhausted(fund: PointsFund, left: int, points: int) -> str:
    """The refusal of a draw of ``points`` when ``left`` remain (one wording for single and bulk accruals)."""
    return f"bonus fund '{fund.name}' exhausted: {max(left, 0)} points left, {points} asked"


def open_fund(
    name: str,
    budget_points: int,
    point_value_minor: int,
    currency: str,
    *,
    return_window_days: int = 14,
    expiry_months: int = 24,
    notice_days: int = 30,
) -> PointsFund:
    """Make the one active fund, retiring the one before (its entries keep naming it). The caller commits."""
    try:
        minor_digits(currency)
    except InvalidAmount as error:
        raise PointsRefused(str(error)) from None
    if budget_points <= 0 or point_value_minor < 0 or return_window_days < 0 or expiry_months <= 0 or notice_days < 0:
        raise PointsRefused("a fund needs a positive budget and expiry, and no negative value, window or notice")
    # Flushed before the insert: the unique index on active funds would refuse two at once.
    db.session.execute(update(PointsFund).where(PointsFund.active.is_(True)).values(active=False))
    fund = PointsFund(
        name=name,
        budget_points=budget_points,
        point_value_minor=point_value_minor,
        currency=currency,
        active=True,
        return_window_days=return_window_days,
        expiry_months=expiry_months,
        notice_days=notice_days,
    )
    db.session.add(fund)
    db.session.flush()
    return fund


def fund_report(fund: PointsFund) -> FundReport:
    entry = PointsEntry

    def total(condition):
        return func.coalesce(func.sum(case((condition, entry.points), else_=0)), 0)

    row = db.session.execute(
        select(
            total(entry.kind.in_(DRAWING_KINDS)),
            total(is_pending(entry)),
            total(entry.kind == "spent"),
            total(entry.kind == "expired"),
            func.coalesce(func.sum(entry.points), 0),
        ).where(entry.fund_id == fund.id)
    ).one()
    drawn_points, pending, spent, expired, liability = (int(value) for value in row)
    return FundReport(fund, drawn_points, pending, -spent, -expired, liability)
