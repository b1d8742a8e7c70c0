"""``flask --app app payouts batch|void|rebuild|export|mark-paid``: build, void or rebuild a payout batch,
write its file, record payment."""

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


@click.command("void")
@click.option("--batch", "batch_id", type=int, required=True)
@click.option("--reason", required=True, help="Why the draft is voided; kept on the batch.")
def void_command(batch_id: int, reason: str) -> None:
    """Void a draft payout batch: its amounts return to the pool for the next batch."""
    from payouts.batches.lifecycle import BatchError
    from payouts.batches.voiding import void_batch

    try:
        void_batch(_load(batch_id), reason, "cli")
    except BatchError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"batch {batch_id} voided: its amounts go to the next batch")


@click.command("rebuild")
@click.option("--batch", "batch_id", type=int, required=True)
def rebuild_command(batch_id: int) -> None:
    """Void a draft payout batch and build its replacement from the open ledger, printing what changed."""
    from payouts.batches.lifecycle import BatchError
    from payouts.batches.rebuild import rebuild_batch

    try:
        batch = rebuild_batch(_load(batch_id), "cli")
    except BatchError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"batch {batch_id} voided, rebuilt as batch {batch.id}: {len(batch.lines)} partners")
    for change in batch.rebuild_changes or []:
        click.echo(f"partner {change['partner_id']} {change['change']}: {change['reason']}")


def _payment_file(batch, file_format: str) -> bytes:
    from payouts.exports.archive import ExportRefused, payment_file
    from payouts.exports.sepa import SepaRefused

    try:
        exported = payment_file(batch, file_format, "cli")
    except (ExportRefused, SepaRefused) as error:
        raise click.ClickException(str(error)) from None
    if exported.left_out:
        click.echo(f"left out {exported.left_out}")
    click.echo(exported.note)
    return exported.body


@click.command("export")
@click.option("--batch", "batch_id", type=int, required=True)
@click.option("--format", "file_format", type=click.Choice(["csv", "xlsx", "sepa", "journal"]), required=True)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True)
def export_command(batch_id: int, file_format: str, out: Path) -> None:
    """Write a payout batch as CSV, XLSX, a SEPA pain.001 file for the bank, or an accounting journal CSV."""
    from payouts.exports.journal import to_journal_csv

    batch = _load(batch_id)
    # The journal goes to accounting, not to the bank: it is rendered afresh and the batch's state stays.
    body = to_journal_csv(batch) if file_format == "journal" else _payment_file(batch, file_format)
    out.write_bytes(body)
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


COMMANDS = (batch_command, void_command, rebuild_command, export_command, mark_paid_command)
