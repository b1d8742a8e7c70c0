"""Reading a catalogue file, CSV or XLSX, into numbered rows of cells keyed by the header's column names.

The header (row 1) names the columns, in any order and any case; the README lists them. Nothing here judges
a value: each row goes through the API's own ProductIn (channel.catalog.importer).
``stream_sheet`` reads a larger file (a sell-out upload, channel.sellout) row by row with its own columns.
XLSX: python-calamine when ``channel.catalog.xlsx`` finds its memory bounded, else openpyxl's streaming reader.
"""

from __future__ import annotations

import csv
import io
import logging
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from itertools import islice
from typing import Any

from channel.catalog.xlsx import CALAMINE_BUDGET, calamine_cost, calamine_rows

REQUIRED_COLUMNS = ("sku", "name", "family", "list_price", "currency", "points_per_unit", "eligible_from")
OPTIONAL_COLUMNS = ("eligible_to", "active")
COLUMNS = REQUIRED_COLUMNS + OPTIONAL_COLUMNS
MAX_FILE_BYTES = 1024 * 1024
MAX_ROWS = 5000
MAX_SHEET_ROWS = 4 * MAX_ROWS  # blank rows too: a sheet formatted down to row 1,048,576 is read no further
# An XLSX is a zip: 1 MiB of it can unpack to gigabytes of XML. A real 5,000-row catalogue unpacks to a few MiB.
MAX_UNPACKED_BYTES = 32 * 1024 * 1024
_ZIP_MAGIC = b"PK\x03\x04"
log = logging.getLogger(__name__)


class ImportFileError(ValueError):
    """The file as a whole cannot be read (not CSV or XLSX, no header, too big); nothing was imported."""


@dataclass
class SheetRow:
    number: int  # as a spreadsheet shows it: the header is row 1
    values: dict[str, Any]
    problem: str | None = None


def read_sheet(data: bytes) -> list[SheetRow]:
    """The file's data rows (blank rows skipped, numbers kept), whatever its format; ImportFileError if unreadable."""
    if not data:
        raise ImportFileError("the file is empty")
    if len(data) > MAX_FILE_BYTES:
        raise ImportFileError(f"the file is larger than {MAX_FILE_BYTES} bytes; split it")
    raw_rows = _xlsx_rows(data) if data.startswith(_ZIP_MAGIC) else _csv_rows(data)
    header = _header(next(raw_rows, None))
    rows: list[SheetRow] = []
    for number, cells in enumerate(raw_rows, start=2):
        values = [_plain(cell) for cell in cells]
        if all(value is None for value in values):
            continue
        if len(rows) == MAX_ROWS:
            raise ImportFileError(f"the file has more than {MAX_ROWS} rows; split it")
        row = SheetRow(number, {name: value for name, value in zip(header, values, strict=False) if value is not None})
        if any(value is not None for value in values[len(header) :]):
            row.problem = f"the row has more cells than the header's {len(header)} columns"
        rows.append(row)
    return rows


def _header(
    cells: tuple[Any, ...] | list[Any] | None,
    columns: Sequence[str] = COLUMNS,
    required: Sequence[str] = REQUIRED_COLUMNS,
) -> list[str]:
    names = [str(cell).strip().lower() if cell is not None else "" for cell in cells or ()]
    while names and not names[-1]:
        names.pop()
    unknown = [name or "(blank)" for name in names if name not in columns]
    missing = [name for name in required if name not in names]
    if unknown or missing:
        optional = [name for name in columns if name not in required]
        raise ImportFileError(
            "row 1 must be the header: "
            + ", ".join(columns)
            + (f" ({', '.join(optional)} optional)" if optional else "")
            + (f"; unknown columns: {', '.join(unknown)}" if unknown else "")
            + (f"; missing columns: {', '.join(missing)}" if missing else "")
        )
    if len(set(names)) != len(names):
        raise ImportFileError("the header names a column twice")
    return names


def _csv_rows(data: bytes) -> Any:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ImportFileError("the file is neither XLSX nor UTF-8 text (CSV)") from None
    first_line = text.split("\n", 1)[0]
    # Excel in many European locales saves CSV with semicolons; the header line tells which it is.
    delimiter = max((",", ";", "\t"), key=first_line.count)
    try:
        return iter(list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)))
    except csv.Error as error:
        raise ImportFileError(f"the CSV cannot be read: {error}") from None


def _xlsx_rows(data: bytes) -> Any:
    try:
        if _fits_calamine(data, MAX_UNPACKED_BYTES):
            rows: list[Any] = list(islice(calamine_rows(data, len(COLUMNS) + 10), MAX_SHEET_ROWS + 1))
        else:
            rows = _openpyxl_rows(data, len(COLUMNS) + 10, MAX_SHEET_ROWS + 1)
    except ImportFileError:
        raise
    except Exception as error:  # calamine and openpyxl raise many kinds for a damaged or foreign file
        log.info("unreadable XLSX in a catalogue import: %r", error)
        raise ImportFileError("the file is not a readable XLSX workbook") from None
    if len(rows) > MAX_SHEET_ROWS:
        raise ImportFileError(f"the worksheet has more than {MAX_SHEET_ROWS} rows, blank ones included")
    return iter(rows)


def _fits_calamine(data: bytes, max_unpacked_bytes: int) -> bool:
    """The zip bomb check (the parts' unpacked sizes), then whether calamine may read it (``xlsx``)."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        unpacked = sum(member.file_size for member in archive.infolist())
        if unpacked > max_unpacked_bytes:
            raise ImportFileError(f"the XLSX unpacks to more than {max_unpacked_bytes} bytes")
        cost = calamine_cost(archive)
    return cost is not None and cost <= CALAMINE_BUDGET


def _openpyxl_rows(data: bytes, max_columns: int, max_rows: int) -> list[Any]:
    from openpyxl import load_workbook  # only imports that carry a spreadsheet pay for loading it

    workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    rows = list(islice(workbook.worksheets[0].iter_rows(max_col=max_columns, values_only=True), max_rows))
    workbook.close()
    return rows


def _plain(cell: Any) -> Any:
    """A cell as ProductIn reads it: blank is None, spreadsheet numbers exact, date-times as their day."""
    if isinstance(cell, str):
        return cell.strip() or None
    if isinstance(cell, float):
        # Excel keeps numbers as binary floats; the shortest repr is the decimal a person typed (19.99).
        # Beyond 2**53 a float is no longer the whole number typed: its Decimal, for the checks to refuse.
        return int(cell) if cell.is_integer() and abs(cell) < 2**53 else Decimal(repr(cell))
    if isinstance(cell, datetime):
        return cell.date()
    if isinstance(cell, date | int | bool | Decimal) or cell is None:
        return cell
    return str(cell)


@dataclass(frozen=True)
class SheetSpec:
    """What a file read row by row (``stream_sheet``) may hold: its columns, the required ones, its limits."""

    columns: tuple[str, ...]
    required: tuple[str, ...]
    max_rows: int
    max_unpacked_bytes: int


def stream_sheet(data: bytes, spec: SheetSpec) -> Iterator[SheetRow]:
    """The file's data rows one at a time (blank rows skipped), for files too large to hold as lists of cells.

    The header is read before this returns, so a file that cannot be read at all raises ImportFileError here;
    one damaged further down raises it from the iteration.
    """
    if not data:
        raise ImportFileError("the file is empty")
    raw_rows = _xlsx_stream(data, spec) if data.startswith(_ZIP_MAGIC) else _csv_stream(data)
    try:
        header = _header(next(raw_rows, None), spec.columns, spec.required)
    except csv.Error as error:
        raise ImportFileError(f"the CSV cannot be read: {error}") from None
    return _numbered_rows(raw_rows, header, spec.max_rows)


def _numbered_rows(raw_rows: Iterator[Any], header: list[str], max_rows: int) -> Iterator[SheetRow]:
    read = 0
    try:
        for number, cells in enumerate(islice(raw_rows, 4 * max_rows + 1), start=2):
            if number > 4 * max_rows + 1:
                raise ImportFileError(f"the file has more than {4 * max_rows} rows, blank ones included")
            values = [_plain(cell) for cell in cells]
            if all(value is None for value in values):
                continue
            read += 1
            if read > max_rows:
                raise ImportFileError(f"the file has more than {max_rows} rows; split it")
            row = SheetRow(
                number, {name: value for name, value in zip(header, values, strict=False) if value is not None}
            )
            if any(value is not None for value in values[len(header) :]):
                row.problem = f"the row has more cells than the header's {len(header)} columns"
            yield row
    except csv.Error as error:
        raise ImportFileError(f"the CSV cannot be read on row {read + 2}: {error}") from None


def _csv_stream(data: bytes) -> Iterator[list[str]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ImportFileError("the file is neither XLSX nor UTF-8 text (CSV)") from None
    first_line = text.split("\n", 1)[0]
    delimiter = max((",", ";", "\t"), key=first_line.count)
    return csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)


def _xlsx_stream(data: bytes, spec: SheetSpec) -> Iterator[tuple[Any, ...]]:
    from openpyxl import load_workbook

    width = len(spec.columns) + 1  # +1: a row with more cells than the header is told so
    workbook = None
    try:
        if _fits_calamine(data, spec.max_unpacked_bytes):
            cells: Iterator[Any] = calamine_rows(data, width)
        else:
            # read_only parses the worksheet's XML as it is iterated: a 100,000-row sheet is never held whole.
            workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
            cells = workbook.worksheets[0].iter_rows(max_col=width, values_only=True)
    except ImportFileError:
        raise
    except Exception as error:  # calamine and openpyxl raise many kinds for a damaged or foreign file
        log.info("unreadable XLSX: %r", error)
        raise ImportFileError("the file is not a readable XLSX workbook") from None
    return _closing_rows(workbook, cells)


def _closing_rows(workbook: Any, cells: Iterator[Any]) -> Iterator[Any]:
    try:
        yield from cells
    except Exception as error:
        log.info("XLSX damaged part-way: %r", error)
        raise ImportFileError("the XLSX workbook is damaged part-way through") from None
    finally:
        if workbook is not None:
            workbook.close()
