"""A payout batch as an accounting journal: balanced double-entry rows per payable line, as CSV.

Per payable line (held lines post nothing; they pay nothing):

    Dr commission expense          gross
    Dr contributions expense       contributions   (the company's own social charges on the payout)
    Dr input VAT (recoverable)     vat
        Cr payable to partner      net             (the cash the partner receives; the SEPA file pays it)
        Cr withholding payable     withholding     (tax withheld, owed to the tax office)
        Cr contributions payable   contributions

It balances because the tax engine's net is gross + VAT - withholding. Kept deliberately simple: VAT is
posted as recoverable input VAT (reverse-charge and non-recoverable VAT are the accountant's adjustment),
and zero amounts are not posted. Columns: batch, date, partner_id, account, description, debit, credit,
currency; amounts as exact decimals in the currency's major unit, blank on the other side.
"""

from __future__ import annotations

import csv
import io

from core.money import to_major
from payouts.batches.models import PayoutBatch, PayoutLine

HEADER = ("batch", "date", "partner_id", "account", "description", "debit", "credit", "currency")
# (account, side, field of the line)
POSTINGS = (
    ("commission expense", "debit", "gross_minor"),
    ("contributions expense", "debit", "contributions_minor"),
    ("input VAT (recoverable)", "debit", "vat_minor"),
    ("payable to partner", "credit", "net_minor"),
    ("withholding payable", "credit", "withholding_minor"),
    ("contributions payable", "credit", "contributions_minor"),
)


class JournalUnbalanced(RuntimeError):
    """A line's figures do not balance; the tax engine's invariants were broken somewhere."""


def postings(line: PayoutLine) -> list[tuple[str, int, int]]:
    """(account, debit_minor, credit_minor) for one payable line, zero amounts left out."""
    rows = [
        (account, getattr(line, name) if side == "debit" else 0, getattr(line, name) if side == "credit" else 0)
        for account, side, name in POSTINGS
        if getattr(line, name)
    ]
    debit, credit = sum(row[1] for row in rows), sum(row[2] for row in rows)
    if debit != credit:
        raise JournalUnbalanced(f"partner {line.partner_id}: debits {debit} != credits {credit} (minor units)")
    return rows


def rows(batch: PayoutBatch) -> list[list]:
    """The journal's rows after the header, amounts as exact Decimals (None on the side not posted)."""
    out = []
    for line in batch.lines:
        if line.status != "payable":
            continue
        description = f"payout batch {batch.id}, partner {line.partner_id}"
        for account, debit, credit in postings(line):
            out.append(
                [
                    batch.id,
                    batch.payout_date.isoformat(),
                    line.partner_id,
                    account,
                    description,
                    to_major(debit, batch.currency) if debit else None,
                    to_major(credit, batch.currency) if credit else None,
                    batch.currency,
                ]
            )
    return out


def to_journal_csv(batch: PayoutBatch) -> bytes:
    """UTF-8 CSV with a BOM, like payouts/exports/spreadsheets.py; no totals row, so each column sums to the batch."""
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\r\n")
    writer.writerow(HEADER)
    writer.writerows([["" if cell is None else str(cell) for cell in row] for row in rows(batch)])
    return ("\ufeff" + text.getvalue()).encode("utf-8")
