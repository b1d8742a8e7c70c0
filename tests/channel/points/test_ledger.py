"""The points ledger's rules, called as sell-out and rewards will call them."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import time_machine
from sqlalchemy import func, select

from channel.points.balances import expiring_within
from channel.points.funds import PointsRefused, fund_report, open_fund
from channel.points.ledger import Refusal, accrue, add_months, adjust, expire_due, release_due, reverse_source
from channel.points.models import PointsAllocation, PointsEntry
from channel.points.spending import spend
from core.db import db
from tests.channel.points.conftest import BUDGET, T0, after


def accrued(points, partner, amount, line, days=0.0):
    entry = accrue(partner.id, amount, "sellout_line", line, after(days), "sell-out upload #1")
    db.session.commit()
    return entry


def kinds(partner) -> list[tuple[str, int]]:
    rows = select(PointsEntry.kind, PointsEntry.points).where(PointsEntry.partner_id == partner.id)
    return [tuple(row) for row in db.session.execute(rows.order_by(PointsEntry.id))]


def test_points_stay_pending_through_the_return_window_then_release(points):
    entry = accrued(points, points.acme, 120, 1)
    assert entry.release_after == after(14) and entry.expires_at == datetime(2028, 1, 5, 9, tzinfo=UTC)
    assert (points.balance().pending, points.balance().available) == (120, 0)
    assert release_due(after(13.9)) == 0
    assert release_due(after(14)) == 1
    assert release_due(after(15)) == 0  # released once, however often the job runs
    assert (points.balance().pending, points.balance().available) == (0, 120)
    assert kinds(points.acme) == [("accrued", 120), ("released", 0)]


def test_a_source_accrues_once(points):
    first = accrued(points, points.acme, 120, 1)
    again = accrued(points, points.acme, 999, 1)
    assert again.id == first.id and points.balance().total == 120


def test_accruals_are_refused_with_the_reason_when_the_fund_is_exhausted(points):
    accrued(points, points.acme, BUDGET - 100, 1)
    refusal = accrued(points, points.other, 101, 2)
    assert refusal == Refusal("bonus fund 'Loyalty 2026' exhausted: 100 points left, 101 asked")
    assert accrued(points, points.other, 100, 3).points == 100
    assert fund_report(points.fund).left == 0
    assert db.session.scalar(select(func.count()).select_from(PointsEntry)) == 2


def test_without_an_active_fund_an_accrual_is_refused(points):
    points.fund.active = False
    db.session.commit()
    assert "no active bonus fund" in accrued(points, points.acme, 10, 1).reason


def test_opening_a_fund_retires_the_one_before(points):
    newer = open_fund("Loyalty 2027", 1000, 100, "RUB", return_window_days=30)
    db.session.commit()
    assert not points.fund.active and newer.active
    assert accrued(points, points.acme, 10, 1).release_after == after(30)


def test_a_return_reverses_exactly_what_the_line_earned_pending_or_released(points):
    accrued(points, points.acme, 120, 1)
    accrued(points, points.acme, 80, 2)
    release_due(after(14))
    assert reverse_source("sellout_line", 1, "return #7", "customer returned it").points == -120
    again = reverse_source("sellout_line", 1, "return #7", "customer returned it")
    assert again.points == -120 and points.balance().available == 80
    accrued(points, points.acme, 50, 3, days=20)
    reverse_source("sellout_line", 3, "upload undone", "upload #2 undone")
    assert (points.balance().pending, points.balance().available) == (0, 80)
    assert reverse_source("sellout_line", 99, "x", "never earned") is None
    db.session.commit()
    assert fund_report(points.fund).drawn == 80


def test_a_return_after_spending_leaves_a_negative_balance_that_later_accruals_net(points):
    accrued(points, points.acme, 100, 1)
    release_due(after(14))
    spend(points.acme.id, 70, "reward order #1", "headphones")
    reverse_source("sellout_line", 1, "return #1", "returned")
    db.session.commit()
    assert points.balance().available == -70
    with pytest.raises(PointsRefused, match="only 0 points available, 1 asked"):
        spend(points.acme.id, 1, "reward order #2")
    accrued(points, points.acme, 100, 2, days=15)
    release_due(after(29))
    assert points.balance().available == 30


def test_spends_take_the_oldest_points_first_and_record_which(points):
    old, new = accrued(points, points.acme, 100, 1), accrued(points, points.acme, 100, 2, days=1)
    release_due(after(15))
    [first] = spend(points.acme.id, 150, "reward order #1", "a drill")
    db.session.commit()
    used = db.session.execute(select(PointsAllocation.lot_id, PointsAllocation.points).order_by(PointsAllocation.id))
    assert [tuple(row) for row in used] == [(old.id, 100), (new.id, 50)] and first.points == -150
    with pytest.raises(PointsRefused, match="only 50 points available, 51 asked"):
        spend(points.acme.id, 51, "reward order #2")


def test_pending_points_cannot_be_spent(points):
    accrued(points, points.acme, 100, 1)
    with pytest.raises(PointsRefused, match="only 0 points available"):
        spend(points.acme.id, 1, "reward order #1")


def test_expiry_posts_what_is_left_and_a_later_return_takes_only_the_rest(points):
    accrued(points, points.acme, 100, 1)
    release_due(after(14))
    spend(points.acme.id, 30, "reward order #1")
    db.session.commit()
    assert expiring_within(after(731 - 30), 30) == [(points.acme.id, None, 70, add_months(T0, 24))]
    assert expire_due(add_months(T0, 24)) == 1 and expire_due(add_months(T0, 25)) == 0
    assert kinds(points.acme)[-1] == ("expired", -70) and points.balance().available == 0
    report = fund_report(points.fund)
    assert (report.drawn, report.spent, report.expired, report.liability) == (100, 30, 70, 0)
    assert reverse_source("sellout_line", 1, "return #1", "late return").points == -30
    db.session.commit()
    assert points.balance().available == -30


def test_the_balance_names_what_expires_next(points):
    accrued(points, points.acme, 100, 1)
    accrued(points, points.acme, 40, 2, days=10)
    found = points.balance()
    assert (found.expiring_next, found.expiring_at) == (100, add_months(T0, 24))


def test_adjustments_need_a_reason_and_draw_on_the_fund(points):
    with pytest.raises(PointsRefused, match="needs a reason"):
        adjust(points.acme.id, 10, "  ", "admin key #1")
    with pytest.raises(PointsRefused, match="non-zero"):
        adjust(points.acme.id, 0, "typo", "admin key #1")
    with time_machine.travel(T0, tick=False):
        entry = adjust(points.acme.id, 50, "trade show bonus", "admin key #1")
    assert (entry.expires_at, points.balance().available) == (add_months(T0, 24), 50)
    adjust(points.acme.id, -80, "double credit corrected", "admin key #1")
    db.session.commit()
    assert points.balance().available == -30 and fund_report(points.fund).drawn == -30
    with pytest.raises(PointsRefused, match="exhausted"):
        adjust(points.acme.id, BUDGET + 31, "too much", "admin key #1")


def test_an_unknown_partner_is_refused(points):
    with pytest.raises(PointsRefused, match="does not exist"):
        accrue(987654, 10, "sellout_line", 1, T0, "x")


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [((2026, 1, 31), 1, (2026, 2, 28)), ((2024, 1, 31), 1, (2024, 2, 29)), ((2026, 11, 30), 24, (2028, 11, 30))],
)
def test_add_months_keeps_the_day_or_takes_the_month_end(start, months, expected):
    assert add_months(datetime(*start, tzinfo=UTC), months) == datetime(*expected, tzinfo=UTC)


def test_points_never_released_still_expire_and_leave_pending(points):
    accrued(points, points.acme, 100, 1)
    assert expire_due(add_months(T0, 24)) == 1
    found = points.balance()
    assert (found.total, found.pending, found.available, found.expiring_at) == (0, 0, 0, None)
    assert release_due(add_months(T0, 25)) == 0  # an expired accrual is not released afterwards


def test_the_cli_opens_a_fund_and_runs_release_and_expiry(app):
    runner = app.test_cli_runner()
    opened = runner.invoke(
        args=[
            "channel",
            "points-fund",
            "--name",
            "Demo",
            "--budget",
            "900000",
            "--point-value",
            "100",
            "--currency",
            "RUB",
        ]
    )
    assert opened.exit_code == 0 and "900000 points" in opened.output
    bad = runner.invoke(
        args=["channel", "points-fund", "--name", "X", "--budget", "0", "--point-value", "1", "--currency", "RUB"]
    )
    assert bad.exit_code == 1 and "positive budget" in bad.output
    assert runner.invoke(args=["channel", "points-release"]).output == "released 0 accruals\n"
    assert runner.invoke(args=["channel", "points-expire"]).output == "expired 0 lots\n"
