"""Random sequences of accruals, releases, spends, returns, expiries and adjustments keep the ledger's promises.

After every step: each balance is the sum of its entries; available is never below what returns and
negative adjustments took (spends alone never make it negative); the fund is never overdrawn; a return
never takes back more than its source earned; a lot never gives more than it holds.
"""

from __future__ import annotations

from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, func, select

from channel.points.balances import balance
from channel.points.funds import PointsRefused, fund_report
from channel.points.ledger import Refusal, accrue, adjust, expire_due, release_due, reverse_source
from channel.points.models import PointsAllocation, PointsEntry, PointsFund
from channel.points.spending import spend
from core.db import db
from tests.channel.points.conftest import T0

BUDGET = 1_500

steps = st.lists(
    st.one_of(
        st.tuples(st.just("accrue"), st.integers(0, 1), st.integers(1, 700)),
        st.tuples(st.just("wait"), st.integers(1, 800)),
        st.tuples(st.just("release")),
        st.tuples(st.just("expire")),
        st.tuples(st.just("spend"), st.integers(0, 1), st.integers(1, 600)),
        st.tuples(st.just("reverse"), st.integers(0, 30)),
        st.tuples(st.just("adjust"), st.integers(0, 1), st.integers(-300, 300).filter(bool)),
    ),
    min_size=4,
    max_size=30,
)


def points_fund() -> PointsFund:
    return db.session.scalars(select(PointsFund).where(PointsFund.active.is_(True))).one()


def fresh_fund(points) -> None:
    db.session.execute(delete(PointsAllocation))
    db.session.execute(delete(PointsEntry))
    db.session.execute(delete(PointsFund).where(PointsFund.id != points.fund.id))
    points.fund.budget_points = BUDGET
    db.session.commit()


def run(step, partners, clock, sources) -> timedelta:
    """Do one step; answers how far the clock moved."""
    kind, *args = step
    if kind == "accrue":
        sources.append(len(sources) + 1)
        result = accrue(partners[args[0]].id, args[1], "line", sources[-1], T0 + clock, "upload")
        assert isinstance(result, (PointsEntry, Refusal))
    elif kind == "wait":
        return timedelta(days=args[0])
    elif kind == "release":
        release_due(T0 + clock)
    elif kind == "expire":
        expire_due(T0 + clock)
    elif kind == "spend":
        before = balance(partners[args[0]].id).available
        try:
            spend(partners[args[0]].id, args[1], "order")
            assert args[1] <= before
        except PointsRefused:
            assert args[1] > before
    elif kind == "reverse" and sources:
        reverse_source("line", sources[args[0] % len(sources)], "return", "returned")
    elif kind == "adjust":
        left = fund_report(points_fund()).left
        try:
            adjust(partners[args[0]].id, args[1], "by hand", "admin")
            assert args[1] <= left
        except PointsRefused:
            assert args[1] > left
    db.session.commit()
    return timedelta()


def check(points, partners) -> None:
    for partner in partners:
        rows = db.session.scalars(select(PointsEntry).where(PointsEntry.partner_id == partner.id)).all()
        found = balance(partner.id)
        assert found.total == sum(row.points for row in rows)
        settled = {row.settles_id for row in rows if row.settles_id is not None}
        assert found.pending == sum(row.points for row in rows if row.kind == "accrued" and row.id not in settled)
        taken = sum(row.points for row in rows if row.kind == "reversed" or (row.kind == "adjusted" and row.points < 0))
        assert found.available >= min(taken, 0)
    assert fund_report(points.fund).drawn <= BUDGET
    for reversal in db.session.scalars(select(PointsEntry).where(PointsEntry.kind == "reversed")):
        earned = db.session.get(PointsEntry, reversal.settles_id)
        assert earned is not None and 0 <= -reversal.points <= earned.points
    overdrawn = (
        select(PointsEntry.id)
        .join(PointsAllocation, PointsAllocation.lot_id == PointsEntry.id)
        .group_by(PointsEntry.id, PointsEntry.points)
        .having(func.sum(PointsAllocation.points) > PointsEntry.points)
    )
    assert db.session.scalars(overdrawn).all() == []


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=steps)
def test_random_histories_keep_every_promise(points, steps):
    fresh_fund(points)
    partners, clock, sources = (points.acme, points.other), timedelta(), []
    for step in steps:
        clock += run(step, partners, clock, sources)
        check(points, partners)
