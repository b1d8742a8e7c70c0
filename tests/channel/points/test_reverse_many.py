"""``reverse_many`` (an undone upload's lines) writes what ``reverse_source`` line by line writes."""

from __future__ import annotations

from sqlalchemy import select

from channel.points.bulk import reverse_many
from channel.points.funds import fund_report
from channel.points.ledger import accrue, add_months, expire_due, release_due, reverse_source
from channel.points.models import PointsEntry
from channel.points.spending import spend
from core.db import db
from tests.channel.points.conftest import T0, after

KIND = "sellout_line"


def reversals() -> list[tuple]:
    rows = select(
        PointsEntry.fund_id,
        PointsEntry.partner_id,
        PointsEntry.points,
        PointsEntry.source_kind,
        PointsEntry.source_id,
        PointsEntry.settles_id,
        PointsEntry.actor,
        PointsEntry.reason,
    ).where(PointsEntry.kind == "reversed")
    return sorted(tuple(row) for row in db.session.execute(rows))


def ledger_with_every_case(points) -> None:
    """Lines 1-3 of acme, 4-5 of other; 2 partly spent, then 2 and 3 expired and 3 reversed; 9 never accrued."""
    for line, partner, amount in ((1, points.acme, 100), (2, points.acme, 40), (3, points.acme, 7)):
        accrue(partner.id, amount, KIND, line, after(0), "upload #1")
    for line, amount in ((4, 60), (5, 25)):
        accrue(points.other.id, amount, KIND, line, after(1), "upload #1")
    db.session.commit()
    release_due(after(14))
    spend(points.acme.id, 130, "reward order #1")
    db.session.commit()
    expire_due(add_months(T0, 24))  # line 2 lot: 10 of 40 left, expired
    reverse_source(KIND, 3, "return", "returned: upload 2 row 5")
    db.session.commit()


def test_reverse_many_writes_what_reverse_source_per_line_writes(points):
    ledger_with_every_case(points)
    lines = [5, 1, 2, 3, 4, 9]
    for line in lines:
        reverse_source(KIND, line, "admin ", " upload 1 undone ")
    one_by_one = reversals()
    db.session.rollback()
    assert reverse_many(KIND, lines, "admin ", " upload 1 undone ") == 4  # 3 was reversed before, 9 earned nothing
    assert reversals() == one_by_one
    by_line = {row[4]: row[2] for row in one_by_one}
    assert by_line == {1: -100, 2: -30, 3: 0, 4: -60, 5: -25}  # less what expired: 10 of line 2, all 7 of 3
    db.session.commit()
    assert fund_report(points.fund).drawn == 17  # all came back but the expired 17, which stay drawn


def test_reverse_many_is_idempotent_and_leaves_other_sources_alone(points):
    ledger_with_every_case(points)
    assert reverse_many(KIND, [4], "admin", "undone") == 1
    db.session.commit()
    assert reverse_many(KIND, [4, 5], "admin", "undone") == 1 and reverse_many(KIND, [4, 5], "admin", "x") == 0
    assert reverse_many(KIND, [], "admin", "undone") == 0
    db.session.commit()
    assert {row[4] for row in reversals()} == {3, 4, 5}
    assert reverse_source(KIND, 4, "admin", "again").reason == "undone"  # one reversal per source, either way
