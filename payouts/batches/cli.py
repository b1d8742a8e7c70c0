"""``flask --app app payouts batch|export|mark-paid``: build a payout batch, write its file, record payment."""

from __future__ import annotations

import calendar
from datetime import date
from pathlib import Path

import click


def _period_end(period: str) -> date:
    try:
        year, month = (int(part) for part in period.split("-"))
        return date(year, month, calendar.monthrange(year, month)[1])
    except ValueError:
        raise click.BadParameter(f"{period!r} is not a month like 2031-07", param_hint="--period") from None


def _load(batch_id: int):
    from core.db import db
    from payouts.batches.models import PayoutBatch

    batch = db.session.get(PayoutBatch, batch_id)
    if batch is None:
        raise click.ClickException(f"payout batch {batch_id} not found")
    return batch


@click.command("batch")
@click.option("--period", required=True, help="The month to pay up to, YYYY-MM.")
@click.option("--currency", required=True, help="ISO 4217 code, like RUB.")
@click.option("--payout-date", type=click.DateTime(["%Y-%m-%d"]), help="Tax rates of this day; default month end.")
@click.option("--minimum", default="0", show_default=True, help="Minimum payout in major units (1000 = 1,000.00).")
def batch_command(period: str, currency: str, payout_date, minimum: str) -> None:
    """Build a draft payout batch of every approved, unpaid amount up to the end of the month."""
    from core.money import InvalidAmount, to_minor
    from payouts.batches.lifecycle import BatchError, create_batch, owed_per_partner, totals

    period_end, currency = _period_end(period), currency.upper()
    try:
        minimum_minor = to_minor(minimum, currency)
        count = len(owed_per_partner(currency, period_end))
        with click.progressbar(length=count, label="pricing partners", show_pos=True) as bar:

            def progress(partners):
                for partner in partners:
                    yield partner
                    bar.update(1)

            batch = create_batch(
                period_end,
                currency,
                payout_date.date() if payout_date else period_end,
                minimum_minor,
                "cli",
                progress=progress,
            )
    except (InvalidAmount, BatchError) as error:
        raise click.ClickException(str(error)) from None
    held = sum(line.status == "held" for line in batch.lines)
    click.echo(
        f"batch {batch.id}: {len(batch.lines)} partners, {held} held; "
        f"net {totals(batch)['net_minor']} minor units of {currency}"
    )


@click.command("export")
@click.option("--batch", "batch_id", type=int, required=True)
@click.option("--format", "file_format", type=click.Choice(["csv", "xlsx", "sepa", "journal"]), required=True)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True)
def export_command(batch_id: int, file_format: str, out: Path) -> None:
    """Write a payout batch as CSV, XLSX, a SEPA pain.001 file for the bank, or an accounting journal CSV."""
    from payouts.batches.lifecycle import mark_exported
    from payouts.exports.journal import to_journal_csv
    from payouts.exports.sepa import SepaRefused, build_sepa
    from payouts.exports.spreadsheets import to_csv, to_xlsx

    batch = _load(batch_id)
    if file_format == "sepa":
        try:
            result = build_sepa(batch)
        except SepaRefused as error:
            raise click.ClickException(str(error)) from None
        body = result.xml
        for partner_id, reason in result.excluded.items():
            click.echo(f"left out partner {partner_id}: {reason}")
    else:
        body = {"csv": to_csv, "xlsx": to_xlsx, "journal": to_journal_csv}[file_format](batch)
    out.write_bytes(body)
    if file_format != "journal":  # the journal goes to accounting, not to the bank: the batch's state stays
        mark_exported(batch)
    click.echo(f"wrote batch {batch.id} to {out}")


@click.command("mark-paid")
@click.option("--batch", "batch_id", type=int, required=True)
def mark_paid_command(batch_id: int) -> None:
    """Record that the bank paid an approved batch (appends the ledger's 'paid' rows)."""
    from payouts.batches.lifecycle import BatchError, mark_paid

    try:
        appended = mark_paid(_load(batch_id), "cli")
    except BatchError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"batch {batch_id} paid: {appended} ledger rows appended")


COMMANDS = (batch_command, export_command, mark_paid_command)
