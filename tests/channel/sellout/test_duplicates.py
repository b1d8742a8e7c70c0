"""Duplicates: retyped invoice numbers, the same file twice, identical lines, serials once, the conflict queue."""

from __future__ import annotations

from sqlalchemy import select

from channel.points.models import PointsEntry
from channel.sellout.models import SerialConflict
from core.db import db
from tests.channel.sellout.conftest import UPLOADS, book, csv_bytes, points_of, preview, reasons, upload
from tests.factories import expect


def test_a_retyped_invoice_number_is_the_same_line(client, program):
    first = book(client, program.keys["reseller"], program.row(invoice_number="INV-2026-0042"))
    again = preview(
        client, program.keys["reseller"], program.row(invoice_number="inv 2026 0042", customer_name="Other")
    )
    assert (again["duplicates"], again["rows_accepted"]) == (1, 0)
    assert reasons(again)[2].startswith(f"already booked by upload {first['id']} row 2")
    in_file = preview(
        client, program.keys["reseller"], program.row(invoice_number="A-1"), program.row(invoice_number="a1")
    )
    assert reasons(in_file) == {
        3: f"the same line as row 2 (invoice a1 of 2026-11-20, distributor {program.distributor.id}, line 1)"
    }
    assert in_file["rejected"][0]["kind"] == "duplicate"


def test_the_same_file_twice_is_refused(client, program):
    data = csv_bytes(program.row())
    first = expect(upload(client, program.keys["reseller"], data), 201)
    answer = expect(upload(client, program.keys["reseller"], data), 409)
    assert f"is upload {first['id']} already (previewed)" in answer["error"]
    expect(client.delete(f"{UPLOADS}/{first['id']}", headers=program.keys["reseller"]), 200)  # discard the preview
    assert expect(upload(client, program.keys["reseller"], data), 201)["rows_accepted"] == 1


def test_two_identical_lines_of_one_invoice_stay_two(client, program):
    answer = book(client, program.keys["reseller"], program.row(), program.row(line_number=2))
    assert (answer["rows_accepted"], answer["duplicates"], answer["points_accrued"]) == (2, 0, 40)


def test_a_serial_earns_once(client, program):
    sale = {"sku": "SW-8", "quantity": 1, "unit_price": "500", "serial": "SW000009"}
    book(client, program.keys["reseller"], program.row(**sale))
    again = preview(client, program.keys["reseller"], program.row(invoice_number="INV-2", **sale))
    assert reasons(again)[2].startswith("serial SW000009 already earned points on upload")
    in_file = preview(
        client,
        program.keys["reseller"],
        program.row(invoice_number="X-1", **sale | {"serial": "SW000010"}),
        program.row(invoice_number="X-2", **sale | {"serial": "sw000010"}),
    )
    assert reasons(in_file) == {3: "serial SW000010 already earned points on row 2"}


def test_one_serial_from_two_partners_goes_to_the_conflict_queue(client, program):
    sale = {"sku": "SW-8", "quantity": 1, "unit_price": "500", "serial": "SW000011"}
    book(client, program.keys["reseller"], program.row(**sale))
    other = program.row(partner_key=program.other.id, invoice_number="O-1", **sale)
    answer = book(client, program.keys["admin"], other)
    assert (answer["rows_accepted"], answer["conflicts"], answer["points_accrued"]) == (1, 1, 0)
    queue = expect(client.get("/api/v1/sellout/conflicts", headers=program.keys["admin"]), 200)["items"]
    assert len(queue) == 1 and queue[0]["serial"] == "SW000011"
    assert (queue[0]["holder"]["partner_id"], queue[0]["claimant"]["partner_id"]) == (
        program.reseller.id,
        program.other.id,
    )
    expect(client.get("/api/v1/sellout/conflicts", headers=program.keys["reseller"]), 403)
    url = f"/api/v1/sellout/conflicts/{queue[0]['id']}/resolve"
    expect(client.post(url, json={"winner_line_id": 999999}, headers=program.keys["admin"]), 422)
    resolved = expect(
        client.post(url, json={"winner_line_id": queue[0]["claimant"]["line_id"]}, headers=program.keys["admin"]), 200
    )
    assert resolved["state"] == "resolved" and resolved["winner_line_id"] == queue[0]["claimant"]["line_id"]
    assert (points_of(program.reseller), points_of(program.other)) == (0, 25)
    expect(client.post(url, json={"winner_line_id": queue[0]["holder"]["line_id"]}, headers=program.keys["admin"]), 409)
    assert db.session.scalar(select(SerialConflict.resolved_by)).startswith("admin key")
    assert [e.kind for e in db.session.scalars(select(PointsEntry).order_by(PointsEntry.id))] == [
        "accrued",
        "reversed",
        "accrued",
    ]


def test_a_preview_outrun_by_another_upload_of_its_lines_is_refused_at_commit(client, program):
    first = preview(client, program.keys["reseller"], program.row())
    second = preview(client, program.keys["distributor"], program.row(invoice_number="inv1", customer_name="Retyped"))
    assert second["rows_accepted"] == 1  # nothing booked yet when it was previewed
    expect(client.post(f"{UPLOADS}/{first['id']}/commit", headers=program.keys["reseller"]), 200)
    stale = expect(client.post(f"{UPLOADS}/{second['id']}/commit", headers=program.keys["distributor"]), 409)
    assert "booked some of upload" in stale["error"] and points_of(program.reseller) == 20
