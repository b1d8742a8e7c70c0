"""Sell-out: uploads, the lines they book, the rows they rejected, and serials claimed by two partners.

Lines are written once, at the preview, and never deleted. ``live`` says a line counts: booked by a
committed upload that was not undone. The three uniqueness rules of the program are partial unique
indexes over live lines, so two uploads committed at the same moment cannot both book one line, claim
one serial or return one sale (the second commit fails on the index and is answered 409):

* a line is (invoice number normalised, invoice date, distributor, line number);
* a serial is claimed by one live line in the program's lifetime (``serial_claim``);
* a sale is returned by one live return line (``returns_line_id``).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Boolean, CheckConstraint, Date, ForeignKey, Index, Integer, String, Text
from sqlalchemy import text as sql
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Model, UtcDateTime, check_in, utcnow

UPLOAD_STATES = ("previewed", "committed", "undone", "discarded")
LINE_STATES = ("staged", "booked", "rejected")
CONFLICT_STATES = ("open", "resolved")
REJECTION_KINDS = ("invalid", "duplicate")


class SelloutUpload(Model):
    __tablename__ = "sellout_uploads"
    __table_args__ = (
        CheckConstraint(check_in("state", UPLOAD_STATES), name="state"),
        # The same bytes twice are refused while the first is previewed or booked; after an undo (or a
        # discarded preview) the file may come again.
        Index(
            "uq_sellout_uploads_sha256",
            "sha256",
            unique=True,
            postgresql_where=sql("state IN ('previewed', 'committed')"),
            sqlite_where=sql("state IN ('previewed', 'committed')"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64))
    file_name: Mapped[str] = mapped_column(String(255))
    # The partner key's company (a reseller, or a distributor reporting for its resellers); null: an admin.
    uploader_partner_id: Mapped[int | None] = mapped_column(ForeignKey("partners.id"), index=True)
    state: Mapped[str] = mapped_column(String(16), default="previewed")
    rows_read: Mapped[int] = mapped_column(Integer, default=0)
    rows_accepted: Mapped[int] = mapped_column(Integer, default=0)
    duplicates: Mapped[int] = mapped_column(Integer, default=0)
    rejected: Mapped[int] = mapped_column(Integer, default=0)
    conflicts: Mapped[int] = mapped_column(Integer, default=0)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    committed_by: Mapped[str | None] = mapped_column(String(64))
    committed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    undone_by: Mapped[str | None] = mapped_column(String(64))
    undone_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class SelloutLine(Model):
    __tablename__ = "sellout_lines"
    __table_args__ = (
        CheckConstraint(check_in("state", LINE_STATES), name="state"),
        CheckConstraint("quantity <> 0", name="quantity"),
        CheckConstraint("NOT live OR state = 'booked'", name="live_booked"),
        Index(
            "uq_sellout_lines_key",
            "invoice_key",
            "invoice_date",
            "distributor_id",
            "line_number",
            unique=True,
            postgresql_where=sql("live"),
            sqlite_where=sql("live"),
        ),
        Index(
            "uq_sellout_lines_serial",
            "serial_claim",
            unique=True,
            postgresql_where=sql("live"),
            sqlite_where=sql("live"),
        ),
        Index(
            "uq_sellout_lines_return",
            "returns_line_id",
            unique=True,
            postgresql_where=sql("live"),
            sqlite_where=sql("live"),
        ),
        Index("ix_sellout_lines_upload_row", "upload_id", "row_number"),
        Index("ix_sellout_lines_partner_product", "partner_id", "product_id"),
        Index("ix_sellout_lines_serial", "serial"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    upload_id: Mapped[int] = mapped_column(ForeignKey("sellout_uploads.id"))
    row_number: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(16), default="staged")
    live: Mapped[bool] = mapped_column(Boolean, default=False)
    partner_id: Mapped[int] = mapped_column(ForeignKey("partners.id"))
    distributor_id: Mapped[int] = mapped_column(ForeignKey("partners.id"))
    invoice_number: Mapped[str] = mapped_column(String(64))  # as typed
    invoice_key: Mapped[str] = mapped_column(String(64))  # spaces, dashes and case removed
    invoice_date: Mapped[date] = mapped_column(Date)
    line_number: Mapped[int] = mapped_column(Integer)
    product_id: Mapped[int] = mapped_column(ForeignKey("catalog_products.id"))
    serial: Mapped[str | None] = mapped_column(String(64))
    serial_claim: Mapped[str | None] = mapped_column(String(64))  # the serial, on the one line that earns it
    quantity: Mapped[int] = mapped_column(Integer)  # negative: a return
    unit_price_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    customer_name: Mapped[str] = mapped_column(String(200))
    customer_tax_id: Mapped[str | None] = mapped_column(String(32))
    ship_country: Mapped[str] = mapped_column(String(2))
    ship_postcode: Mapped[str] = mapped_column(String(16))
    rep_email: Mapped[str | None] = mapped_column(String(254))
    reference_code: Mapped[str | None] = mapped_column(String(64))
    points: Mapped[int] = mapped_column(BigInteger, default=0)  # what the sale earns (a return: minus its sale's)
    returns_line_id: Mapped[int | None] = mapped_column(ForeignKey("sellout_lines.id"))
    # Why the line is booked without its points (the fund was exhausted), or why it was rejected at commit.
    note: Mapped[str | None] = mapped_column(Text)


class SelloutRejection(Model):
    """A row of an upload that was not booked, with its number in the file and the reason."""

    __tablename__ = "sellout_rejections"
    __table_args__ = (
        CheckConstraint(check_in("kind", REJECTION_KINDS), name="kind"),
        Index("ix_sellout_rejections_upload_row", "upload_id", "row_number"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    upload_id: Mapped[int] = mapped_column(ForeignKey("sellout_uploads.id"))
    row_number: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(Text)


class SerialConflict(Model):
    """One serial reported by two partners: the line that holds it and the one that claims it too."""

    __tablename__ = "sellout_serial_conflicts"
    __table_args__ = (CheckConstraint(check_in("state", CONFLICT_STATES), name="state"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    serial: Mapped[str] = mapped_column(String(64), index=True)
    holder_line_id: Mapped[int] = mapped_column(ForeignKey("sellout_lines.id"))
    claimant_line_id: Mapped[int] = mapped_column(ForeignKey("sellout_lines.id"), unique=True)
    state: Mapped[str] = mapped_column(String(16), default="open")
    winner_line_id: Mapped[int | None] = mapped_column(ForeignKey("sellout_lines.id"))
    resolved_by: Mapped[str | None] = mapped_column(String(64))
    resolved_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
