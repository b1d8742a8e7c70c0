"""Committing books points; a return takes back exactly its sale's; an undo reverses all and frees the file."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from channel.catalog.models import Promotion
from channel.catalog.promotions import points_for
from channel.points.bulk import Accrual, accrue_many
from channel.points.funds import open_fund
from channel.points.ledger import Refusal, accrue
from channel.points.models import PointsEntry
from channel.sellout.models import SelloutLine
from core.db import db
from tests.channel.sellout.conftest import UPLOADS, book, commit, csv_bytes, points_of, preview, upload
from tests.factories import expect


def test_a_commit_books_each_line_with_the_points_the_catalogue_gives(client, program):
    db.session.add(
        Promotion(
            name="Double",
            multiplier=2,
            product_id=program.router.id,
            starts_on=program.router.eligible_from,
            ends_on=program.router.eligible_from.replace(month=12),
        )
    )
    db.session.commit()
    rows = [
        program.row(),
        program.row(line_number=2, quantity=3),
        program.row(line_number=3, sku="SW-8", serial="sw000001", quantity=1, unit_price="480"),
    ]
    answer = preview(client, program.keys["reseller"], *rows)
    assert (answer["state"], answer["rows_read"], answer["rows_accepted"], answer["rejected"]) == (
        "previewed",
        3,
        3,
        [],
    )
    assert points_of(program.reseller) == 0  # a preview books nothing
    booked = commit(client, program.keys["reseller"], answer["id"])
    expected = points_for(program.router, 2, program.router.eligible_from, "standard") + 60 + 25
    assert booked["state"] == "committed" and booked["points_accrued"] == expected == 40 + 60 + 25
    assert points_of(program.reseller) == expected
    serials = db.session.scalars(select(SelloutLine.serial_claim).where(SelloutLine.serial.is_not(None))).all()
    assert serials == ["SW000001"]  # compared in upper case


def test_a_return_takes_back_exactly_what_its_sale_earned_once(client, program):
    book(client, program.keys["reseller"], program.row(quantity=3))
    assert points_of(program.reseller) == 30
    answer = book(
        client, program.keys["reseller"], program.row(invoice_number="inv 1", invoice_date="2026-11-22", quantity=-3)
    )
    assert answer["rows_accepted"] == 1 and points_of(program.reseller) == 0
    again = preview(
        client, program.keys["reseller"], program.row(invoice_number="INV1", invoice_date="2026-11-23", quantity=-3)
    )
    assert "no sale to match" in again["rejected"][0]["reason"]
    partial = preview(
        client,
        program.keys["reseller"],
        program.row(invoice_number="inv 1", line_number=5, quantity=2),
        program.row(invoice_number="INV-1", invoice_date="2026-11-24", line_number=5, quantity=-1),
    )
    assert "takes back a whole sale line" in partial["rejected"][0]["reason"]


def test_a_sale_and_its_return_in_one_file_net_to_nothing(client, program):
    answer = book(
        client,
        program.keys["reseller"],
        program.row(sku="SW-8", serial="SW000002", quantity=1, unit_price="500"),
        program.row(invoice_number="CN-1", sku="SW-8", serial="SW000002", quantity=-1, unit_price="500"),
    )
    assert answer["rows_accepted"] == 2 and points_of(program.reseller) == 0
    kinds = db.session.scalars(select(PointsEntry.kind).order_by(PointsEntry.id)).all()
    assert kinds == ["accrued", "reversed"]


def test_an_undo_reverses_every_line_and_lets_the_file_come_again(client, program):
    data = csv_bytes(program.row(), program.row(line_number=2))
    first = expect(upload(client, program.keys["reseller"], data), 201)
    commit(client, program.keys["reseller"], first["id"])
    assert expect(upload(client, program.keys["reseller"], data), 409)["error"].startswith("this file")
    undone = expect(client.delete(f"{UPLOADS}/{first['id']}", headers=program.keys["reseller"]), 200)
    assert undone["state"] == "undone" and points_of(program.reseller) == 0
    assert expect(client.delete(f"{UPLOADS}/{first['id']}", headers=program.keys["reseller"]), 409)
    second = expect(upload(client, program.keys["reseller"], data), 201)
    assert second["rows_accepted"] == 2 and second["duplicates"] == 0
    commit(client, program.keys["reseller"], second["id"])
    assert points_of(program.reseller) == 40
    assert db.session.query(SelloutLine).count() == 4  # the undone upload's lines stay, as the record


def test_lines_the_fund_cannot_pay_are_booked_with_the_reason(client, program):
    accrue(program.other.id, 900_000 - 25, "test", 1, datetime(2026, 11, 1, tzinfo=UTC), "test")
    db.session.commit()
    answer = book(client, program.keys["reseller"], program.row(quantity=2), program.row(line_number=2, quantity=2))
    assert answer["rows_accepted"] == 2 and answer["points_accrued"] == 20
    assert answer["booked_without_points"] == [
        {"row": 3, "reason": "bonus fund 'Loyalty 2026' exhausted: 5 points left, 20 asked"}
    ]
    assert db.session.scalar(select(SelloutLine.state).where(SelloutLine.row_number == 3)) == "booked"
    shown = expect(client.get(f"{UPLOADS}/{answer['id']}", headers=program.keys["reseller"]), 200)
    assert shown["booked_without_points"] == answer["booked_without_points"]


def test_accrue_many_writes_the_entries_accrue_would(app, program):
    """The same asks, one by one through accrue on one fund and at once through accrue_many on a like fund."""
    moment = datetime(2026, 11, 20, tzinfo=UTC)
    asks = [(program.reseller.id, 500_000, 1), (program.other.id, 300_000, 2), (program.reseller.id, 200_000, 3)]
    asks.append((program.other.id, 100_000, 4))
    singles = [accrue(partner_id, points, "one", source, moment, "test") for partner_id, points, source in asks]
    db.session.commit()
    open_fund("Loyalty 2026", 900_000, 50, "EUR")  # a like fund, named alike
    many = [Accrual(partner_id, points, source, moment) for partner_id, points, source in asks]
    answers = accrue_many("many", [*many, Accrual(program.reseller.id, 5, 1, moment)], "test")
    db.session.commit()
    assert [isinstance(answer, Refusal) for answer in singles] == [False, False, True, False]
    assert answers[3] == singles[2] == Refusal("bonus fund 'Loyalty 2026' exhausted: 100000 points left, 200000 asked")

    def entries(kind):
        statement = select(PointsEntry).where(PointsEntry.source_kind == kind).order_by(PointsEntry.source_id)
        return [
            (e.partner_id, e.points, e.source_id, e.release_after, e.expires_at, e.kind, e.actor)
            for e in db.session.scalars(statement)
        ]

    assert entries("many") == entries("one") and len(entries("one")) == 3
