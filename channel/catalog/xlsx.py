"""The first worksheet of an XLSX read with python-calamine, once a look at its XML bounds what that costs.

calamine (Rust) reads a 100,000-row sheet about ten times faster than openpyxl's streaming reader, but it
is not lazy: it parses the whole worksheet into a dense grid (rows x columns of 32-byte cells, every text
cell its own copy of its shared string) before the first row comes back; ``iter_rows`` only converts rows
to Python one at a time. One stray cell at XFD1048576 would make that grid terabytes. So before calamine
sees a file (whose total unpacked size the caller has checked already: the zip bomb), one streaming pass
over its XML parts (0.3 s for 68 MB of sheet XML) finds the cells' extent from their references and counts
their text; ``calamine_cost`` turns that into a bound on calamine's memory. Within ``CALAMINE_BUDGET`` the
caller reads with calamine; beyond it, or for a sheet whose cells do not all name their reference (then
their extent cannot be known without parsing), with openpyxl's streaming reader: slower, constant memory.

Cell types: calamine gives every number as a float (openpyxl an int when the XML holds no decimal point);
``sheets._plain`` makes a whole float an int and any other the Decimal of its shortest repr, which is the
number Excel stores (19.99), as it did for openpyxl's floats. A percent cell is its fraction (15 % is 0.15),
as in openpyxl. Empty cells come as "" (read as blank), date cells as date or datetime.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterator
from typing import Any

CALAMINE_BUDGET = 256 * 1024 * 1024  # bound on what calamine holds; a 100,000 x 16 sell-out sheet holds ~150 MB
_CHUNK = 4 * 1024 * 1024
_CELL_ROW = re.compile(rb'<c r="[A-Z]{1,3}(\d{1,7})"')
_CELL_COLUMN = re.compile(rb'<c r="([A-Z]{1,3})')
_UNPREFIXED_CELLS = (b"<c ", b"<c>", b"<c/>")
_PREFIXED_CELL = re.compile(rb"<\w+:c[\s>/]")  # <x:c r="A1">: valid XML, but this pass counts plain <c> only
_OWN_TEXT = (b't="inlineStr"', b't="str"', b"t='inlineStr'", b"t='str'")
_GRID_CELL, _PARSED_CELL = 32, 48  # bytes per cell of calamine's dense grid, and of its list of parsed cells


def _column_number(letters: bytes) -> int:
    number = 0
    for letter in letters:
        number = number * 26 + letter - 64
    return number


def _largest(numbers: list[bytes]) -> int:
    """The largest of these decimal numbers, without an int per cell: same-length digits compare as text."""
    digits = len(max(numbers, key=len))
    same_length = numbers if len(min(numbers, key=len)) == digits else [n for n in numbers if len(n) == digits]
    return int(max(same_length))


class _Extent:
    """What one pass over the XML parts found: the cells' extent, how many name their reference, their text."""

    def __init__(self) -> None:
        self.rows = self.columns = self.cells = self.unreferenced = 0
        self.own_text_bytes = 0

    def take(self, chunk: bytes, part_size: int) -> None:
        rows = _CELL_ROW.findall(chunk)
        self.cells += len(rows)
        self.unreferenced += sum(map(chunk.count, _UNPREFIXED_CELLS)) - len(rows)
        self.unreferenced += _PREFIXED_CELL.search(chunk) is not None
        if rows:
            self.rows = max(self.rows, _largest(rows))
            self.columns = max(self.columns, *map(_column_number, set(_CELL_COLUMN.findall(chunk))))
        if any(marker in chunk for marker in _OWN_TEXT):
            self.own_text_bytes = part_size  # inline text is at most the part's own size


def _scan(archive: zipfile.ZipFile, member: zipfile.ZipInfo, extent: _Extent) -> None:
    tail = b""
    with archive.open(member) as part:
        while block := part.read(_CHUNK):
            chunk = tail + block
            cut = chunk.rfind(b"<")  # a tag cut by the block's end is read with the next block
            chunk, tail = (chunk[:cut], chunk[cut:]) if cut > 0 else (chunk, b"")
            extent.take(chunk, member.file_size)
        extent.take(tail, member.file_size)


def _longest_shared_string(archive: zipfile.ZipFile, member: zipfile.ZipInfo) -> int:
    longest, tail = 0, b""
    with archive.open(member) as part:
        while block := part.read(_CHUNK):
            pieces = (tail + block).split(b"<si>")
            tail = pieces.pop()
            longest = max([longest, *map(len, pieces)])
    return max(longest, len(tail))


def calamine_cost(archive: zipfile.ZipFile) -> int | None:
    """An upper bound on the bytes calamine holds for any worksheet of ``archive``; None when unknowable."""
    extent, longest = _Extent(), 0
    for member in archive.infolist():
        if member.filename.endswith("sharedStrings.xml"):
            longest = _longest_shared_string(archive, member)
        elif member.filename.endswith(".xml"):  # every part: wherever the first sheet lives, it is one of them
            _scan(archive, member, extent)
    if extent.unreferenced:
        return None
    grid = extent.rows * extent.columns * _GRID_CELL
    # Any cell may be a copy of the longest shared string: counting which are costs more than it saves.
    return grid + extent.cells * (_PARSED_CELL + longest) + extent.own_text_bytes


def calamine_rows(data: bytes, max_columns: int) -> Iterator[list[Any]]:
    """The first worksheet's rows from row 1 and column A, at most ``max_columns`` cells each (a blank one is "").

    The workbook is parsed before this returns (a damaged file raises here); rows are converted lazily.
    """
    from python_calamine import CalamineWorkbook  # only requests that carry a spreadsheet pay for loading it

    with CalamineWorkbook.from_object(io.BytesIO(data)) as workbook:
        sheet = workbook.get_sheet_by_index(0)
    return _padded(sheet, max_columns)


def _padded(sheet: Any, max_columns: int) -> Iterator[list[Any]]:
    # iter_rows starts at row 1 but at the sheet's first used column: put the columns before it back.
    lead = [None] * (sheet.start[1] if sheet.start else 0)
    for cells in sheet.iter_rows():
        yield (lead + cells)[:max_columns] if lead or len(cells) > max_columns else cells
