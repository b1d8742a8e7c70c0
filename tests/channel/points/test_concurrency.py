"""Races on PostgreSQL, each side in its own thread and session: the fund's last points, a balance spent twice."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from channel.points.funds import PointsRefused, fund_report
from channel.points.ledger import Refusal, accrue, release_due
from channel.points.models import PointsEntry
from channel.points.spending import spend
from core.db import db
from tests.channel.points.conftest import BUDGET, T0, after

pytestmark = pytest.mark.parametrize("app", ["postgresql"], indirect=True)  # SQLite has one writer: no race


def race(app, *calls):
    """Run each call in its own thread and session, all released at once; their results (or errors) in order."""
    barrier = threading.Barrier(len(calls))
    results: list[object] = [None] * len(calls)

    def run(index, call):
        with app.app_context():
            barrier.wait()
            try:
                results[index] = call()
                db.session.commit()
            except PointsRefused as refusal:
                db.session.rollback()
                results[index] = refusal
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    db.session.rollback()
    return results


def test_two_accruals_racing_for_the_last_points_of_the_fund_one_wins(points, app):
    accrue(points.acme.id, BUDGET - 100, "sellout_line", 1, T0, "upload #1")
    db.session.commit()
    # Two partners: their own locks never meet, so only the fund row's lock decides.
    results = race(
        app,
        lambda: accrue(points.acme.id, 100, "sellout_line", 2, T0, "upload #2"),
        lambda: accrue(points.other.id, 100, "sellout_line", 3, T0, "upload #3"),
    )
    refusals = [r for r in results if isinstance(r, Refusal)]
    assert len(refusals) == 1 and "0 points left, 100 asked" in refusals[0].reason
    assert len([r for r in results if isinstance(r, PointsEntry)]) == 1
    assert fund_report(points.fund).drawn == BUDGET
    assert db.session.scalar(select(func.count()).select_from(PointsEntry)) == 2


def test_two_spends_of_one_balance_cannot_both_take_it(points, app):
    accrue(points.acme.id, 100, "sellout_line", 1, T0, "upload #1")
    db.session.commit()
    release_due(after(14))
    results = race(
        app,
        lambda: spend(points.acme.id, 60, "reward order #1"),
        lambda: spend(points.acme.id, 60, "reward order #2"),
    )
    assert sorted(type(r).__name__ for r in results) == ["PointsRefused", "list"]
    assert points.balance().available == 40
