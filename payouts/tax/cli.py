"""``flask --app app payouts quote``: finance's tax quote from the command line."""

from __future__ import annotations

import json

import click

from core.db import utcnow
from core.money import format_money, to_minor
from payouts.tax.engine.inputs import FLAGS
from payouts.tax.quotes import AMOUNT_FIELDS, QuoteRefused, QuoteRequest, run_quote

_YES, _NO = ("true", "yes", "1"), ("false", "no", "0")


def _inputs(pairs: tuple[str, ...]) -> dict:
    """``key=value`` pairs; flags read true/false, everything else stays text for the engine's checks."""
    inputs: dict[str, str | bool] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        key, value = key.strip(), value.strip()
        if not sep or not key:
            raise click.BadParameter(f"{pair!r} is not key=value", param_hint="--input")
        if key in FLAGS:
            if value.lower() not in _YES + _NO:
                raise click.BadParameter(f"{key} is true or false, not {value!r}", param_hint="--input")
            inputs[key] = value.lower() in _YES
        else:
            inputs[key] = value
    return inputs


def _table(answer: dict) -> str:
    rates = f"rates from {answer['effective_from']}" if answer["effective_from"] else "no rates"
    lines = [
        f"{answer['regime']} ({answer['currency'] or '-'}), {rates}, "
        f"payout on {answer['payout_date']}, basis {answer['basis']}"
    ]
    if answer["blocked_reason"]:
        lines.append(f"BLOCKED: {answer['blocked_reason']}")
    width = max(len(name) for name in AMOUNT_FIELDS)
    currency = answer["currency"]
    lines += [
        f"  {name.replace('_', ' '):<{width}}  {format_money(to_minor(answer[name], currency), currency):>18}"
        for name in AMOUNT_FIELDS
    ]
    for title in ("applied", "documents", "warnings"):
        if answer[title]:
            lines.append(f"{title.capitalize()}:")
            lines += [f"  - {line}" for line in answer[title]]
    return "\n".join(lines)


@click.command("quote")
@click.option("--regime", help="A regime code from the presets; or give --partner-id.")
@click.option("--partner-id", type=int, help="Use the partner's tax profile (regime, inputs, basis).")
@click.option("--amount", required=True, help="Decimal amount in the regime's currency.")
@click.option("--basis", type=click.Choice(("gross", "net")), help="Default: the partner profile's.")
@click.option(
    "--date",
    "payout_date",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="Payout date, YYYY-MM-DD (default: today, UTC).",
)
@click.option(
    "--paid-this-year",
    help="Gross this payer already paid the payee this calendar year; default: with --partner-id, the "
    "partner's approved, exported and paid batches this year under the regime, else 0.",
)
@click.option(
    "--input",
    "inputs",
    multiple=True,
    metavar="KEY=VALUE",
    help="A profile input, e.g. services_abroad=false or treaty_rate=0.10; repeatable.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the quote as JSON.")
def quote_command(regime, partner_id, amount, basis, payout_date, paid_this_year, inputs, as_json) -> None:
    """Price one payout: gross, withholding, contributions, VAT, net and company cost (exit 1 if blocked)."""
    if regime is None and partner_id is None:
        raise click.UsageError("give --regime or --partner-id")
    request = QuoteRequest(
        amount=amount,
        payout_date=(payout_date or utcnow()).date(),
        regime=regime,
        partner_id=partner_id,
        basis=basis,
        paid_this_year=paid_this_year,
        inputs=_inputs(inputs),
    )
    try:
        answer = run_quote(request)
    except QuoteRefused as error:
        raise click.UsageError(str(error)) from None
    click.echo(json.dumps(answer, indent=2, default=str) if as_json else _table(answer))
    if answer["blocked_reason"]:
        click.get_current_context().exit(1)


COMMANDS = (quote_command,)
