"""``flask --app app channel points-...``: release, expire, and open the bonus fund."""

from __future__ import annotations

import click

from core.db import db


@click.command("points-release")
def points_release_command() -> None:
    """Release points whose return window has passed; safe beside the worker."""
    from channel.points.ledger import release_due

    click.echo(f"released {release_due()} accruals")


@click.command("points-expire")
def points_expire_command() -> None:
    """Post the expiry of points past their expiry date; safe beside the worker."""
    from channel.points.ledger import expire_due

    click.echo(f"expired {expire_due()} lots")


@click.command("points-fund")
@click.option("--name", required=True)
@click.option("--budget", "budget_points", type=int, required=True, help="Points the fund may ever give.")
@click.option("--point-value", "point_value_minor", type=int, required=True, help="One point, in minor units.")
@click.option("--currency", required=True)
@click.option("--return-window-days", type=int, default=14, show_default=True)
@click.option("--expiry-months", type=int, default=24, show_default=True)
@click.option("--notice-days", type=int, default=30, show_default=True)
def points_fund_command(**options) -> None:
    """Open the bonus fund (retiring the active one) with the program's point settings."""
    from channel.points.funds import PointsRefused, open_fund

    try:
        fund = open_fund(**options)
    except PointsRefused as refusal:
        raise click.ClickException(str(refusal)) from None
    db.session.commit()
    click.echo(f"fund #{fund.id} '{fund.name}': {fund.budget_points} points")


COMMANDS = (points_release_command, points_expire_command, points_fund_command)
