"""``flask --app app payouts ...``: the commands finance and operators run."""
from __future__ import annotations

import click

payouts_group = click.Group("payouts", help="Commissions, tax quotes and payouts.")


def init_app(app) -> None:
    from payouts import cli_batches, cli_ledger, cli_tax  # noqa: F401  (each adds its commands to the group)

    app.cli.add_command(payouts_group)
