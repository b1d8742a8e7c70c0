"""Every rule a row is judged by, with the reason the preview gives; a rejected row stages nothing."""

from __future__ import annotations

import io

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from channel.sellout.models import SelloutLine
from channel.sellout.rows import COLUMNS, invoice_key
from core.db import db
from tests.channel.sellout.conftest import UPLOADS, csv_bytes, preview, reasons, upload
from tests.factories import PartnerFactory, expect

CASES = [
    ({"sku": "NOPE-1"}, "SKU NOPE-1 is not in the catalogue"),
    ({"invoice_date": "2026-08-26"}, "invoice_date 2026-08-26 is before the open period (from 2026-08-27, 90 days)"),
    ({"invoice_date": "2026-11-26"}, "invoice_date 2026-11-26 is in the future"),
    ({"invoice_date": "20.11.2026"}, "invoice_date: must be an ISO 8601 date"),
    ({"quantity": "0"}, "quantity: must not be zero"),
    ({"quantity": "1.5"}, "quantity: must be a whole number"),
    ({"unit_price": "100.00"}, "unit price 100.00 EUR is outside RT-100's band of 139.93 to 239.88"),
    ({"currency": "USD"}, "priced in USD; RT-100's list price is in EUR"),
    ({"unit_price": "1.001"}, "unit_price: EUR has 2 decimal places"),
    ({"customer_tax_id": "DE123"}, "customer_tax_id 'DE123' is not a valid tax id of DE"),
    ({"sku": "SW-8", "unit_price": "500", "quantity": "1"}, "serial: required for SW-8"),
    ({"sku": "SW-8", "unit_price": "500", "quantity": "1", "serial": "SW12"}, "serial 'SW12' does not match"),
    (
        {"sku": "SW-8", "unit_price": "500", "quantity": "2", "serial": "SW123456"},
        "a row with a serial number is one unit",
    ),
    ({"serial": "SW123456"}, "RT-100's family has no serial numbers"),
    ({"partner_key": "999999"}, "partner_key 999999 is no partner of the program"),
    ({"customer_name": ""}, "customer_name: required"),
    ({"ship_to_country": "Germany"}, "ship_to_country: must be an ISO 3166 two-letter code"),
]


@pytest.mark.parametrize(("fields", "reason"), CASES, ids=[reason[:30] for _, reason in CASES])
def test_each_rule_rejects_the_row_with_its_reason(client, program, fields, reason):
    answer = preview(client, program.keys["admin"], program.row(**fields))
    assert (answer["rows_read"], answer["rows_accepted"]) == (1, 0)
    assert reason in reasons(answer)[2]
    assert db.session.scalar(select(func.count()).select_from(SelloutLine)) == 0


def test_a_product_not_yet_eligible_and_a_withdrawn_one_are_refused(client, program):
    program.router.eligible_from = program.router.eligible_from.replace(month=11, day=21)
    program.switch.active = False
    db.session.commit()
    answer = preview(
        client,
        program.keys["admin"],
        program.row(),
        program.row(line_number=2, sku="SW-8", serial="SW000001", quantity=1, unit_price="500"),
    )
    assert "SKU RT-100 is not eligible on 2026-11-20 (eligible 2026-11-21)" in reasons(answer)[2]
    assert "(withdrawn)" in reasons(answer)[3]


def test_a_partner_is_authorized_only_when_active_and_joined_by_the_invoice_date(client, program):
    program.other.status = "suspended"
    late = PartnerFactory(kind="reseller")  # joined today, 2026-11-25
    db.session.commit()
    answer = preview(
        client,
        program.keys["admin"],
        program.row(partner_key=program.other.id),
        program.row(line_number=2, partner_key=late.id),
    )
    assert reasons(answer) == {
        2: f"partner {program.other.id} is suspended, not active in the program",
        3: f"partner {late.id} joined the program on 2026-11-25, after the invoice date 2026-11-20",
    }


def test_a_distributor_key_must_name_a_distributor(client, program):
    answer = preview(client, program.keys["admin"], program.row(distributor_key=program.other.id))
    assert reasons(answer)[2] == f"distributor_key {program.other.id} is no distributor of the program"


def test_an_unreadable_file_is_refused_whole(client, program):
    bad_header = b"partner,sku\n1,RT-100\n"
    answer = expect(upload(client, program.keys["admin"], bad_header), 422)
    assert "row 1 must be the header" in answer["error"] and "missing columns" in answer["error"]
    assert expect(upload(client, program.keys["admin"], b""), 422)["error"] == "the file is empty"
    assert expect(client.post(UPLOADS, data={}, headers=program.keys["admin"], content_type="multipart/form-data"), 422)


def test_an_xlsx_with_date_and_number_cells_reads_like_the_csv(client, program):
    from datetime import date

    book = Workbook()
    sheet = book.active
    sheet.append(list(COLUMNS))
    row = program.row() | {"invoice_date": date(2026, 11, 20), "quantity": 2, "unit_price": 190.0, "line_number": 1}
    sheet.append([row.get(name) for name in COLUMNS])
    buffer = io.BytesIO()
    book.save(buffer)
    answer = expect(upload(client, program.keys["reseller"], buffer.getvalue(), "sellout.xlsx"), 201)
    assert (answer["rows_accepted"], answer["rejected"]) == (1, [])


def test_invoice_numbers_are_compared_without_spaces_dashes_and_case():
    assert invoice_key(" inv-2026 / 0042 ") == invoice_key("INV20260042") == invoice_key("Inv\u20132026_0042")


def test_the_template_is_the_header_and_one_example_row(client, program):
    response = client.get("/api/v1/sellout/template.csv", headers=program.keys["reseller"])
    assert response.status_code == 200 and response.mimetype == "text/csv"
    header, example = response.get_data(as_text=True).splitlines()
    assert header.split(",") == list(COLUMNS) and example.startswith("12,3,INV-2026-0042,2026-11-20")
    assert csv_bytes(columns=COLUMNS).decode().strip() == header
