"""XLSX cells as the readers give them: calamine's (the fast path) and openpyxl's (the bounded fallback) alike."""

from __future__ import annotations

import io
from datetime import date, datetime
from decimal import Decimal

import pytest
from openpyxl import Workbook

from channel.catalog import sheets, xlsx
from channel.catalog.sheets import ImportFileError, SheetSpec, stream_sheet
from channel.sellout.rows import COLUMNS, read_row

SPEC = SheetSpec(("name", "price", "share", "day", "count"), ("name",), 100, 32 * 1024 * 1024)


def workbook_bytes(cells: dict[str, object], formats: dict[str, str] | None = None) -> bytes:
    book = Workbook()
    for ref, value in cells.items():
        book.active[ref] = value
    for ref, number_format in (formats or {}).items():
        book.active[ref].number_format = number_format
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


HEADER = {"A1": "name", "B1": "price", "C1": "share", "D1": "day", "E1": "count"}
CELLS = HEADER | {
    "A2": "typed",
    "B2": 19.99,
    "C2": 0.15,  # shown as 15 %
    "D2": date(2026, 11, 20),
    "E2": 5,
    "A4": "after a blank row",
    "B4": 190.005,  # more decimals than a price in EUR may have: read exactly, for the checks to refuse
    "D4": datetime(2026, 11, 20, 13, 5),
    "E4": 5.0,
}


def read(data: bytes) -> list[tuple[int, dict, str | None]]:
    return [(row.number, row.values, row.problem) for row in stream_sheet(data, SPEC)]


def test_numbers_percentages_and_dates_read_exactly():
    data = workbook_bytes(CELLS, {"C2": "0%", "D2": "yyyy-mm-dd"})
    assert read(data) == [
        (
            2,
            {
                "name": "typed",
                "price": Decimal("19.99"),
                "share": Decimal("0.15"),
                "day": date(2026, 11, 20),
                "count": 5,
            },
            None,
        ),
        (
            4,
            {
                "name": "after a blank row",
                "price": Decimal("190.005"),
                "day": date(2026, 11, 20),
                "count": 5,
            },
            None,
        ),
    ]


def test_calamine_and_openpyxl_read_a_sheet_alike(monkeypatch):
    data = workbook_bytes(CELLS | {"F2": "one cell too many"}, {"C2": "0%"})
    fast = read(data)
    monkeypatch.setattr(sheets, "CALAMINE_BUDGET", 0)  # every sheet goes to openpyxl
    assert read(data) == fast and fast[0][2] == "the row has more cells than the header's 5 columns"


def test_a_price_cell_that_is_not_an_exact_amount_is_refused_not_rounded():
    values = dict.fromkeys(COLUMNS, "1") | {"invoice_date": date(2026, 11, 20), "currency": "EUR"}
    values |= {"ship_to_country": "DE", "customer_name": "Example GmbH", "rep_email": None}
    header = {f"{chr(65 + i)}1": name for i, name in enumerate(COLUMNS)}
    row = {f"{chr(65 + i)}2": values[name] for i, name in enumerate(COLUMNS)}
    for price, expected in ((190.5, 19050), (190.005, "EUR has 2 decimal places; 190.005 has more")):
        data = workbook_bytes(header | row | {f"{chr(65 + COLUMNS.index('unit_price'))}2": price})
        spec = SheetSpec(COLUMNS, COLUMNS[:12], 100, 32 * 1024 * 1024)
        (sheet_row,) = stream_sheet(data, spec)
        typed = read_row(sheet_row.number, sheet_row.values)
        assert (typed.unit_price_minor if not isinstance(typed, str) else typed).__str__().endswith(str(expected))


def test_a_sheet_not_starting_at_a1_is_read_as_openpyxl_reads_it():
    shifted = {ref[0] + str(int(ref[1:]) + 2): value for ref, value in HEADER.items()}
    with pytest.raises(ImportFileError, match="row 1 must be the header"):
        read(workbook_bytes(shifted))
    moved = {chr(ord(ref[0]) + 1) + ref[1:]: value for ref, value in (HEADER | {"A2": "x"}).items()}
    with pytest.raises(ImportFileError, match=r"unknown columns: \(blank\)"):
        read(workbook_bytes(moved))


def test_a_stray_far_cell_sends_the_sheet_to_openpyxl_instead_of_a_huge_grid(monkeypatch):
    data = workbook_bytes(HEADER | {"A2": "typed", "XFD1048576": "stray"})
    monkeypatch.setattr(xlsx, "CALAMINE_BUDGET", sheets.CALAMINE_BUDGET)
    monkeypatch.setattr(sheets, "calamine_rows", lambda *_: pytest.fail("calamine would allocate terabytes"))
    spec = SheetSpec(SPEC.columns, SPEC.required, 2, SPEC.max_unpacked_bytes)
    with pytest.raises(ImportFileError, match="more than 8 rows, blank ones included"):
        list(stream_sheet(data, spec))


def test_the_unpacked_size_is_checked_before_calamine_parses(monkeypatch):
    monkeypatch.setattr(sheets, "calamine_rows", lambda *_: pytest.fail("parsed before the zip bomb check"))
    with pytest.raises(ImportFileError, match="unpacks to more than 1000 bytes"):
        stream_sheet(workbook_bytes(CELLS), SheetSpec(SPEC.columns, SPEC.required, 100, 1000))


def test_cells_without_their_reference_cannot_be_bounded_so_calamine_is_not_used():
    import zipfile

    source = zipfile.ZipFile(io.BytesIO(workbook_bytes(CELLS)))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as target:
        for member in source.infolist():
            part = source.read(member)
            if member.filename == "xl/worksheets/sheet1.xml":
                part = part.replace(b'<c r="A2"', b"<c")
            target.writestr(member.filename, part)
    assert xlsx.calamine_cost(zipfile.ZipFile(buffer)) is None
    assert xlsx.calamine_cost(source) < sheets.CALAMINE_BUDGET
