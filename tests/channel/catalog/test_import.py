"""Importing the catalogue from CSV and XLSX: row by row, each rejection with its row and reason, idempotent."""

from __future__ import annotations

import io
from datetime import date, datetime

from openpyxl import Workbook
from sqlalchemy import select

from channel.catalog.models import Product
from channel.catalog.sheets import MAX_FILE_BYTES
from core.db import db
from tests.channel.catalog.conftest import add_family
from tests.factories import expect

IMPORT = "/api/v1/catalog/products/import"
HEADER = "sku,name,family,list_price,currency,points_per_unit,eligible_from,eligible_to,active"
GOOD_CSV = (
    f"{HEADER}\n"
    "RT-100,Router 100,routers,199.90,EUR,10,2026-01-01,,\n"
    "rt-200,Router 200,Routers,249,EUR,15,2026-01-01,2026-12-31,false\n"
)


def upload(client, headers, data: bytes, name: str = "catalogue.csv"):
    form = {"file": (io.BytesIO(data), name)}
    return client.post(
        "/api/v1/catalog/products/import", data=form, headers=headers, content_type="multipart/form-data"
    )


def products() -> dict[str, tuple]:
    rows = db.session.scalars(select(Product).order_by(Product.sku))
    return {p.sku: (p.list_price_minor, p.points_per_unit, p.eligible_to, p.active) for p in rows}


def test_a_csv_creates_products_and_the_same_file_again_changes_nothing(client, keys):
    add_family(client, keys["admin"])
    first = expect(upload(client, keys["advertiser"], GOOD_CSV.encode()), 200)
    assert first == {"rows_read": 2, "created": 2, "updated": 0, "unchanged": 0, "rejected": []}
    assert products() == {"RT-100": (19990, 10, None, True), "RT-200": (24900, 15, date(2026, 12, 31), False)}
    stamp = db.session.scalar(select(Product.updated_at).where(Product.sku == "RT-100"))
    again = expect(upload(client, keys["advertiser"], GOOD_CSV.encode()), 200)
    assert (again["created"], again["updated"], again["unchanged"]) == (0, 0, 2)
    assert db.session.scalar(select(Product.updated_at).where(Product.sku == "RT-100")) == stamp


def test_rows_are_rejected_one_by_one_with_their_number_and_reason(client, keys):
    add_family(client, keys["admin"])
    text = (
        f"{HEADER}\n"
        "RT-100,Router 100,routers,199.90,EUR,10,2026-01-01,,\n"
        "RT 1,Bad sku,routers,1,EUR,1,2026-01-01,,\n"
        "\n"  # a blank row is skipped, but keeps its number
        "RT-3,Negative,routers,1,EUR,-5,2026-01-01,,\n"
        "RT-4,Unknown family,modems,1,EUR,1,2026-01-01,,\n"
        "RT-5,Backwards,routers,1,EUR,1,2026-02-01,2026-01-01,\n"
        "RT-6,Bad currency,routers,1,XYZ,1,2026-01-01,,\n"
        "rt-100,Twice,routers,1,EUR,1,2026-01-01,,\n"
        ",No sku,routers,1,EUR,1,2026-01-01,,\n"
        "RT-9,Too many,routers,1,EUR,1,2026-01-01,,,extra\n"
    )
    report = expect(upload(client, keys["admin"], text.encode()), 200)
    assert (report["rows_read"], report["created"]) == (9, 1)
    reasons = {(r["row"], r["sku"]): r["reason"] for r in report["rejected"]}
    assert "may hold only letters A-Z" in reasons[(3, "RT 1")]
    assert "points_per_unit: Input should be greater than or equal to 0" in reasons[(5, "RT-3")]
    assert reasons[(6, "RT-4")].startswith("family 'modems' does not exist")
    assert "eligible_to must not be before eligible_from" in reasons[(7, "RT-5")]
    assert "'XYZ' is not an ISO 4217 currency code" in reasons[(8, "RT-6")]
    assert reasons[(9, "RT-100")] == "SKU RT-100 is also on row 2; a file lists each SKU once"
    assert reasons[(10, None)] == "sku: Field required"
    assert reasons[(11, "RT-9")] == "the row has more cells than the header's 9 columns"
    assert list(products()) == ["RT-100"]


def test_a_reimport_updates_what_changed(client, keys):
    add_family(client, keys["admin"])
    expect(upload(client, keys["admin"], GOOD_CSV.encode()), 200)
    changed = GOOD_CSV.replace("199.90,EUR,10", "189.00,EUR,12")
    report = expect(upload(client, keys["admin"], changed.encode()), 200)
    assert (report["created"], report["updated"], report["unchanged"]) == (0, 1, 1)
    assert products()["RT-100"][:2] == (18900, 12)


def test_a_semicolon_csv_with_a_bom_and_columns_in_any_order(client, keys):
    add_family(client, keys["admin"])
    text = (
        "\ufeffPoints_Per_Unit;SKU;Name;Family;List_Price;Currency;Eligible_From\n"
        "7;SW-1;Switch;routers;10,5;EUR;2026-01-01\n"
    )
    report = expect(upload(client, keys["admin"], text.encode()), 200)
    assert "list_price: " in report["rejected"][0]["reason"]  # a decimal comma is not a number here
    fixed = text.replace("10,5", "10.5")
    assert expect(upload(client, keys["admin"], fixed.encode()), 200)["created"] == 1
    assert products() == {"SW-1": (1050, 7, None, True)}


def xlsx(rows: list[list]) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def test_an_xlsx_with_numbers_and_dates_as_excel_keeps_them(client, keys):
    add_family(client, keys["admin"])
    data = xlsx(
        [
            HEADER.split(","),
            ["RT-100", "Router 100", "routers", 199.9, "EUR", 10, datetime(2026, 1, 1), None, True],
            ["RT-200", "Router 200", "routers", 0.1, "EUR", 15.0, date(2026, 1, 1), date(2026, 12, 31), "no"],
            [None] * 9,
            ["RT-300", "Router 300", "routers", 1.005, "EUR", 1, date(2026, 1, 1)],
            ["RT-400", "Router 400", "routers", 1, "EUR", 1, 46023],  # a date cell typed as a plain number
        ]
    )
    report = expect(upload(client, keys["advertiser"], data, "catalogue.xlsx"), 200)
    assert (report["rows_read"], report["created"]) == (4, 2)
    assert products() == {"RT-100": (19990, 10, None, True), "RT-200": (10, 15, date(2026, 12, 31), False)}
    reasons = {r["row"]: r["reason"] for r in report["rejected"]}
    assert "EUR has 2 decimal places; 1.005 has more" in reasons[5]
    assert "must be an ISO 8601 date" in reasons[6]
    again = expect(upload(client, keys["advertiser"], data, "catalogue.xlsx"), 200)
    assert (again["created"], again["updated"], again["unchanged"]) == (0, 0, 2)


def test_an_unreadable_file_imports_nothing(client, keys):
    add_family(client, keys["admin"])
    cases = [
        (b"", "the file is empty"),
        (b"\xff\xfe\x00garbage", "neither XLSX nor UTF-8"),
        (b"sku,name\nRT-1,x\n", "missing columns: family, list_price"),
        (b"sku,name,family,list_price,currency,points_per_unit,eligible_from,colour\n", "unknown columns: colour"),
        (b"PK\x03\x04 not really a zip", "not a readable XLSX workbook"),
    ]
    for data, reason in cases:
        body = expect(upload(client, keys["admin"], data), 422)
        assert reason in body["error"], body
    assert products() == {}


def test_the_file_size_and_the_form_are_checked(client, keys, app):
    app.config["MAX_CONTENT_LENGTH"] = 4 * MAX_FILE_BYTES  # the file limit, not the request limit, is under test
    too_big = HEADER.encode() + b"\n" + b"x" * MAX_FILE_BYTES
    assert "larger than" in expect(upload(client, keys["admin"], too_big), 422)["error"]
    no_file = client.post(
        "/api/v1/catalog/products/import",
        data={"other": "x"},
        headers=keys["admin"],
        content_type="multipart/form-data",
    )
    assert expect(no_file, 422)["details"][0]["field"] == "file"
    as_json = client.post(IMPORT, json={"file": "x"}, headers=keys["admin"])
    assert "multipart/form-data" in expect(as_json, 400)["error"]
    expect(upload(client, keys["partner"], GOOD_CSV.encode()), 403)
    expect(upload(client, keys["finance"], GOOD_CSV.encode()), 403)


def test_the_cli_imports_a_file_and_exits_1_on_rejections(app, client, keys, tmp_path):
    add_family(client, keys["admin"])
    good, bad = tmp_path / "good.csv", tmp_path / "bad.csv"
    good.write_text(GOOD_CSV)
    bad.write_text(GOOD_CSV + "RT-3,Negative,routers,1,EUR,-5,2026-01-01,,\n")
    runner = app.test_cli_runner()
    result = runner.invoke(args=["channel", "catalog-import", str(good)])
    assert result.exit_code == 0, result.output
    assert "rows read 2: created 2, updated 0, unchanged 0, rejected 0" in result.output
    result = runner.invoke(args=["channel", "catalog-import", str(bad)])
    assert result.exit_code == 1
    assert "row 4 (RT-3): points_per_unit: Input should be greater than or equal to 0" in result.output
    assert "unchanged 2, rejected 1" in result.output
    (tmp_path / "empty.csv").write_bytes(b"")
    result = runner.invoke(args=["channel", "catalog-import", str(tmp_path / "empty.csv")])
    assert result.exit_code == 1 and "the file is empty" in result.output
    assert db.session.scalar(select(Product.updated_by).where(Product.sku == "RT-100")) == "cli"
