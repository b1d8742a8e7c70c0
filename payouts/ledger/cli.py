"""``flask --app app payouts approve-due``: approve commissions whose hold period has passed."""

from __future__ import annotations

import click


@click.command("approve-due")
def approve_due_command() -> None:
    """Approve commissions whose hold period has passed; safe beside the worker."""
    from payouts.ledger.entries import approve_due

    approved = approve_due()
    click.echo(f"approved {approved} commission{'' if approved == 1 else 's'}")


COMMANDS = (approve_due_command,)
