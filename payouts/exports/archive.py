"""Payment files are written once: the first export of a batch in a format is stored, later ones repeat it.

* a draft's CSV or XLSX is a preview: rendered, not stored, and the batch stays a draft (SEPA refuses drafts);
* the first export of an approved, exported or paid batch stores the exact bytes with their SHA-256, and
  moves an approved batch to exported;
* every later export answers the stored bytes and says it is a repeat, so the bank never gets a second,
  different file for one batch (a renamed partner or a changed IBAN would otherwise change it);
* a paid batch never produces a new payment file: one never exported in that format is refused;
* a voided batch pays nothing and exports nothing.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from core.db import db
from payouts.batches.lifecycle import mark_exported
from payouts.batches.models import PayoutBatch
from payouts.exports.models import PayoutExport
from payouts.exports.sepa import build_sepa, excluded_summary
from payouts.exports.spreadsheets import to_csv, to_xlsx

# What a render returns: the file, and for SEPA the lines left out of it with reasons (None otherwise).
Render = Callable[[PayoutBatch], tuple[bytes, str | None]]


def _sepa(batch: PayoutBatch) -> tuple[bytes, str | None]:
    result = build_sepa(batch)  # SepaRefused says why there is no file
    return result.xml, excluded_summary(result) if result.excluded else None


RENDERS: dict[str, Render] = {
    "csv": lambda batch: (to_csv(batch), None),
    "xlsx": lambda batch: (to_xlsx(batch), None),
    "sepa": _sepa,
}


class ExportRefused(ValueError):
    """The batch cannot produce this payment file; the message says why."""


@dataclass(frozen=True)
class PaymentFile:
    body: bytes
    note: str  # what this file is: a preview, a first export, or a repeat (the X-Payout-Export header)
    left_out: str | None = None


def payment_file(batch: PayoutBatch, file_format: str, actor: str, render: Render | None = None) -> PaymentFile:
    """The batch's file in the format (csv, xlsx, sepa): a draft's preview, the stored file, or a new one
    stored now. ``render`` replaces the format's own rendering."""
    render = render or RENDERS[file_format]
    if batch.state == "voided":
        raise ExportRefused(f"batch {batch.id} was voided ({batch.void_reason}); it pays nothing")
    if batch.state == "draft":
        body, left_out = render(batch)
        return PaymentFile(body, f"preview of draft batch {batch.id}; not stored, not for payment", left_out)
    stored = stored_file(batch.id, file_format)
    if stored is not None:
        return _repeat(stored)
    if batch.state == "paid":
        raise ExportRefused(
            f"batch {batch.id} is paid and was never exported as {file_format}; a paid batch produces no "
            "new payment file"
        )
    body, left_out = render(batch)
    stored = PayoutExport(
        batch_id=batch.id,
        format=file_format,
        body=body,
        sha256=hashlib.sha256(body).hexdigest(),
        left_out=left_out,
        created_by=actor,
    )
    db.session.add(stored)
    try:
        db.session.flush()
    except IntegrityError:
        # Two first exports at once: the unique (batch_id, format) lets one file be stored (on PostgreSQL
        # the second insert waits for the first to commit, then fails here); this one answers that file.
        db.session.rollback()
        first = stored_file(batch.id, file_format)
        assert first is not None
        return _repeat(first)
    mark_exported(batch)
    db.session.commit()
    return PaymentFile(
        body, f"first export, stored at {stored.created_at.isoformat()}, sha256 {stored.sha256}", left_out
    )


def stored_file(batch_id: int, file_format: str) -> PayoutExport | None:
    return db.session.scalar(
        select(PayoutExport).where(PayoutExport.batch_id == batch_id, PayoutExport.format == file_format)
    )


def _repeat(stored: PayoutExport) -> PaymentFile:
    note = f"repeat of the file first exported at {stored.created_at.isoformat()}, sha256 {stored.sha256}"
    return PaymentFile(stored.body, note, stored.left_out)
