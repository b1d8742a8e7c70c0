"""An upload's preview: the file read row by row, every row judged, the good ones staged as lines.

Nothing is booked here: the lines wait as ``staged`` until the upload is committed (``booking``). Rows are
taken a thousand at a time: typed (``rows``), judged against the catalogue and partners loaded in bulk
(``checks``), compared with the lines already booked (one query per batch) and with the file's earlier
rows, then written with one multi-row INSERT per batch. Memory holds the current batch and, for the whole
file, only the keys duplicates are compared by.

Duplicates: a line is (normalised invoice number, invoice date, distributor, line number); two rows with
one key are one line reported twice, whatever else they say, so two genuinely identical sales in one
invoice are two lines only with two line numbers. A serial earns once: the same partner reporting it
again is a duplicate; another partner reporting it is booked without points and goes to the conflict
queue (``conflicts``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from itertools import islice
from typing import Any, Literal, cast

from sqlalchemy import Table, insert, select

from channel.catalog.sheets import ImportFileError, SheetRow, SheetSpec, stream_sheet
from channel.sellout.checks import IN_CHUNK, Catalogue, Scope, row_problem, scope_of
from channel.sellout.models import SelloutLine, SelloutRejection, SelloutUpload
from channel.sellout.returns import ReturnMatcher
from channel.sellout.rows import COLUMNS, REQUIRED_COLUMNS, SaleRow, read_row
from core.db import db, utcnow
from tracker.program.models import Partner

MAX_UPLOAD_BYTES = 48 * 1024 * 1024
MAX_ROWS = 200_000
SPEC = SheetSpec(COLUMNS, REQUIRED_COLUMNS, MAX_ROWS, max_unpacked_bytes=512 * 1024 * 1024)
BATCH_ROWS = 1000
LineKey = tuple[str, date, int, int]


class UploadRefused(ValueError):
    """An upload refused as a whole (the same file again); the message says why. Nothing was written."""


def preview_upload(
    data: bytes, file_name: str, uploader: Partner | None, actor: str, today: date | None = None
) -> SelloutUpload:
    """Read, judge and stage the file's rows; ImportFileError if unreadable, UploadRefused if seen. Flushes only."""
    digest = hashlib.sha256(data).hexdigest()
    seen = db.session.scalar(
        select(SelloutUpload).where(SelloutUpload.sha256 == digest, SelloutUpload.state.in_(("previewed", "committed")))
    )
    if seen is not None:
        raise UploadRefused(
            f"this file (sha256 {digest[:12]}...) is upload {seen.id} already ({seen.state}); "
            "a file is uploaded once (undo or discard that upload to upload it again)"
        )
    rows = stream_sheet(data, SPEC)  # before anything is written: an unreadable file stages nothing
    upload = SelloutUpload(
        sha256=digest,
        file_name=file_name[:255] or "upload",
        uploader_partner_id=uploader.id if uploader is not None else None,
        created_by=actor,
        created_at=utcnow(),
    )
    db.session.add(upload)
    db.session.flush()
    stager = Stager(upload, scope_of(uploader), Catalogue(today or utcnow().date()))
    for batch in _batches(rows):
        stager.take(batch)
    return upload


def _batches(rows: Iterator[SheetRow]) -> Iterator[list[SheetRow]]:
    while batch := list(islice(rows, BATCH_ROWS)):
        yield batch


@dataclass
class Stager:
    upload: SelloutUpload
    scope: Scope
    catalogue: Catalogue
    seen_keys: dict[LineKey, int] = field(default_factory=dict)  # line key -> its row
    seen_serials: dict[str, tuple[int, int]] = field(default_factory=dict)  # serial -> (row, partner)
    returns: ReturnMatcher = field(default_factory=ReturnMatcher)
    rejections: list[dict[str, Any]] = field(default_factory=list)

    def reject(self, number: int, reason: str, kind: str = "invalid") -> None:
        self.rejections.append({"upload_id": self.upload.id, "row_number": number, "kind": kind, "reason": reason})
        if kind == "duplicate":
            self.upload.duplicates += 1
        else:
            self.upload.rejected += 1

    def take(self, batch: list[SheetRow]) -> None:
        self.upload.rows_read += len(batch)
        typed = []
        for sheet_row in batch:
            row = sheet_row.problem or read_row(sheet_row.number, sheet_row.values)
            if isinstance(row, str):
                self.reject(sheet_row.number, row)
            else:
                typed.append(row)
        self.catalogue.load(typed)
        valid = []
        for row in typed:
            problem = row_problem(row, self.scope, self.catalogue)
            if problem:
                self.reject(row.number, problem)
                continue
            valid.append(row)
        lines = self._unique_lines(valid)
        sales = [line for line in lines if line["quantity"] > 0]
        _insert_lines(sales)  # before the returns are matched: a return may take back a sale of this batch
        returns = []
        for line in lines:
            if line["quantity"] < 0:
                matched = self.returns.match(line, self.upload.id)
                if isinstance(matched, str):
                    self.reject(line["row_number"], matched)
                else:
                    returns.append(line | {"returns_line_id": matched})
        _insert_lines(returns)
        self.upload.rows_accepted += len(sales) + len(returns)
        if self.rejections:
            db.session.execute(insert(SelloutRejection), self.rejections)
            self.rejections = []

    def _unique_lines(self, rows: list[SaleRow]) -> list[dict[str, Any]]:
        booked_keys = _booked_keys(rows)
        booked_serials = _booked_serials({row.serial for row in rows if row.serial and row.quantity > 0})
        lines = []
        for row in rows:
            key = (row.invoice_key, row.invoice_date, row.distributor_id, row.line_number)
            if key in self.seen_keys:
                self.reject(row.number, f"the same line as row {self.seen_keys[key]} ({_describe(row)})", "duplicate")
                continue
            if key in booked_keys:
                self.reject(row.number, f"already booked by {booked_keys[key]} ({_describe(row)})", "duplicate")
                continue
            claim = self._serial_claim(row, booked_serials)
            if isinstance(claim, bool):  # False: rejected as a duplicate
                continue
            self.seen_keys[key] = row.number
            lines.append(self._line(row, claim))
        return lines

    def _serial_claim(self, row: SaleRow, booked: dict[str, tuple[int, str]]) -> str | Literal[False] | None:
        """The serial this sale claims; None if it names none or another partner holds it (a conflict);
        False (rejected as a duplicate) if the same partner reported it before."""
        if row.serial is None or row.quantity < 0:
            return None
        if row.serial in self.seen_serials:
            holder_row, holder_partner = self.seen_serials[row.serial]
            holder = (holder_partner, f"row {holder_row}")
        elif row.serial in booked:
            holder = booked[row.serial]
        else:
            self.seen_serials[row.serial] = (row.number, row.partner_id)
            return row.serial
        if holder[0] == row.partner_id:
            self.reject(row.number, f"serial {row.serial} already earned points on {holder[1]}", "duplicate")
            return False
        self.upload.conflicts += 1
        return None

    def _line(self, row: SaleRow, claim: str | None) -> dict[str, Any]:
        product = self.catalogue.products[row.sku]
        partner = self.catalogue.partners[row.partner_id]
        assert product is not None and partner is not None  # row_problem refused rows without them
        return {
            "upload_id": self.upload.id,
            "row_number": row.number,
            "state": "staged",
            "live": False,
            "partner_id": row.partner_id,
            "distributor_id": row.distributor_id,
            "invoice_number": row.invoice_number,
            "invoice_key": row.invoice_key,
            "invoice_date": row.invoice_date,
            "line_number": row.line_number,
            "product_id": product.id,
            "serial": row.serial,
            "serial_claim": claim,
            "quantity": row.quantity,
            "unit_price_minor": row.unit_price_minor,
            "currency": row.currency,
            "customer_name": row.customer_name,
            "customer_tax_id": row.customer_tax_id,
            "ship_country": row.ship_country,
            "ship_postcode": row.ship_postcode,
            "rep_email": row.rep_email,
            "reference_code": row.reference_code,
            "points": self.catalogue.points(product, row.quantity, row.invoice_date, partner.tier),
            "returns_line_id": None,
        }


def _describe(row: SaleRow) -> str:
    return (
        f"invoice {row.invoice_number} of {row.invoice_date}, distributor {row.distributor_id}, line {row.line_number}"
    )


def _insert_lines(lines: list[dict[str, Any]]) -> None:
    """Write the lines as one executemany of the table's INSERT.

    Core, not the ORM's bulk insert (which leaves out None values, so rows with and without a serial
    would split into many statements), and without RETURNING, which would make SQLAlchemy render a
    thousand rows into one statement that the driver then parses: ~10x slower than psycopg's pipeline.
    """
    if lines:
        db.session.execute(insert(cast(Table, SelloutLine.__table__)), lines)


def _booked_keys(rows: Iterable[SaleRow]) -> dict[LineKey, str]:
    """The rows' line keys already booked (live), each with where: one query per thousand keys."""
    keys = sorted({(row.invoice_key, row.invoice_date, row.distributor_id, row.line_number) for row in rows})
    line = SelloutLine
    found: dict[LineKey, str] = {}
    for start in range(0, len(keys), IN_CHUNK):
        chunk = keys[start : start + IN_CHUNK]
        statement = select(
            line.invoice_key, line.invoice_date, line.distributor_id, line.line_number, line.upload_id, line.row_number
        ).where(line.live.is_(True), line.invoice_key.in_({key[0] for key in chunk}))
        for invoice, day, distributor, number, upload_id, row_number in db.session.execute(statement):
            found[(invoice, day, distributor, number)] = f"upload {upload_id} row {row_number}"
    return found


def _booked_serials(serials: set[str]) -> dict[str, tuple[int, str]]:
    """Serials already claimed by a live line: serial -> (its partner, where)."""
    line = SelloutLine
    found: dict[str, tuple[int, str]] = {}
    ordered = sorted(serials)
    for start in range(0, len(ordered), IN_CHUNK):
        statement = select(line.serial_claim, line.partner_id, line.upload_id, line.row_number).where(
            line.live.is_(True), line.serial_claim.in_(ordered[start : start + IN_CHUNK])
        )
        for serial, partner_id, upload_id, row_number in db.session.execute(statement):
            found[serial] = (partner_id, f"upload {upload_id} row {row_number}")
    return found


__all__ = ["MAX_UPLOAD_BYTES", "ImportFileError", "UploadRefused", "preview_upload"]
