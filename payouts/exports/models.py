"""Payment files as first exported: the exact bytes finance sent (or may send) to the bank, per format.

A batch's CSV, XLSX or SEPA file is rendered once, when it is first exported from an approved batch,
and stored; every later download answers those bytes, so what the bank was given can always be shown,
even after a partner's name, IBAN or the program's debtor account changed (see payouts.exports.archive).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Model, UtcDateTime, check_in, utcnow

PAYMENT_FORMATS = ("csv", "xlsx", "sepa")


class PayoutExport(Model):
    __tablename__ = "payout_exports"
    __table_args__ = (
        # One stored file per batch and format: two first exports at once store one (archive.payment_file).
        UniqueConstraint("batch_id", "format", name="uq_payout_exports_batch_format"),
        CheckConstraint(check_in("format", PAYMENT_FORMATS), name="format"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("payout_batches.id"))
    format: Mapped[str] = mapped_column(String(8))
    body: Mapped[bytes] = mapped_column(LargeBinary)
    sha256: Mapped[str] = mapped_column(String(64))  # hex digest of body
    left_out: Mapped[str | None] = mapped_column(Text)  # SEPA: the lines not in the file, with reasons
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(String(64))
