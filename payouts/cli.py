"""``flask --app app payouts ...``: the commands finance and operators run, gathered from each domain."""

from __future__ import annotations

import click

from payouts.batches import cli as batches_cli
from payouts.ledger import cli as ledger_cli
from payouts.tax import cli as tax_cli


def init_app(app) -> None:
    group = click.Group("payouts", help="Commissions, tax quotes and payouts.")
    for command in (*ledger_cli.COMMANDS, *tax_cli.COMMANDS, *batches_cli.COMMANDS):
        group.add_command(command)
    app.cli.add_command(group)
