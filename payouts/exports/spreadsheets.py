"""A payout batch as files for finance: CSV and XLSX, one row per partner, summing to the batch to the cent.

Columns, in order (amounts in the batch currency's major unit, exact decimals written as text in CSV
and as numbers with the currency's decimals in XLSX):

batch, partner_id, partner_name, currency, gross, withholding, contributions, vat, net, company_cost,
regime, status, reason

``net`` is the cash the partner receives; ``company_cost`` is gross + VAT + contributions. A held line
pays nothing (every amount 0) and ``reason`` says why; the XLSX ends with a totals row.
"""

from __future__ import annotations

import csv
import io
from decimal import Decimal

from sqlalchemy import select

from core.db import db
from core.money import minor_digits, parse_decimal, to_major
from payouts.batches.lifecycle import totals
from payouts.batches.models import PayoutBatch
from tracker.program.models import Partner

HEADER = (
    "batch",
    "partner_id",
    "partner_name",
    "currency",
    "gross",
    "withholding",
    "contributions",
    "vat",
    "net",
    "company_cost",
    "regime",
    "status",
    "reason",
)
AMOUNTS = ("gross_minor", "withholding_minor", "contributions_minor", "vat_minor", "net_minor", "company_cost_minor")
FIRST_AMOUNT_COLUMN = HEADER.index("gross")


def rows(batch: PayoutBatch) -> list[list]:
    """The export's rows after the header, amounts as exact Decimals."""
    names: dict[int, str] = dict(
        db.session.execute(
            select(Partner.id, Partner.name).where(Partner.id.in_([line.partner_id for line in batch.lines]))
        )
        .tuples()
        .all()
    )
    return [
        [
            batch.id,
            line.partner_id,
            names.get(line.partner_id, ""),
            batch.currency,
            *(to_major(getattr(line, name), batch.currency) for name in AMOUNTS),
            line.regime or "",
            line.status,
            line.held_reason or "",
        ]
        for line in batch.lines
    ]


def total_row(batch: PayoutBatch) -> list:
    sums = totals(batch)
    return [
        batch.id,
        "",
        "TOTAL",
        batch.currency,
        *(to_major(sums[name], batch.currency) for name in AMOUNTS),
        "",
        "",
        "",
    ]


def to_csv(batch: PayoutBatch) -> bytes:
    """UTF-8 CSV (with a BOM, so spreadsheet programs read partner names right); no totals row, so
    summing a column gives the batch total."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(HEADER)
    writer.writerows([[str(cell) for cell in row] for row in rows(batch)])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def to_xlsx(batch: PayoutBatch) -> bytes:
    """One sheet: the header, a row per partner, and a totals row of SUM formulas with their values."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    sheet = book.active
    sheet.title = f"Batch {batch.id}"
    sheet.append(HEADER)
    for row in rows(batch):
        sheet.append(row)
    # Written as values, not formulas: a formula has no value until a spreadsheet program recalculates,
    # and the reconciliation (and openpyxl readers) need the figure itself.
    sheet.append(total_row(batch))
    places = minor_digits(batch.currency)
    number_format = "#,##0" + ("." + "0" * places if places else "")
    for row in sheet.iter_rows(min_row=2, min_col=FIRST_AMOUNT_COLUMN + 1, max_col=FIRST_AMOUNT_COLUMN + len(AMOUNTS)):
        for cell in row:
            cell.number_format = number_format
    for cell in sheet[sheet.max_row]:
        cell.font = Font(bold=True)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def read_amount(value) -> Decimal:
    """A cell read back from either export as an exact Decimal: CSV gives text, openpyxl an int or a float."""
    # XLSX stores numbers as binary doubles; a float's str() is the shortest text that reads back as the
    # same double, which is the decimal written as long as it has at most 15 significant digits.
    return parse_decimal(str(value))
