"""``flask --app app channel ...``: the channel program's commands, gathered from each domain.

A domain adds its commands by listing them in its ``cli.COMMANDS`` and naming that tuple in DOMAIN_COMMANDS.
"""

from __future__ import annotations

import click
from flask import Flask

from channel.catalog import cli as catalog_cli
from channel.points import cli as points_cli
from channel.sellout import cli as sellout_cli

DOMAIN_COMMANDS: tuple[tuple[click.Command, ...], ...] = (
    catalog_cli.COMMANDS,
    points_cli.COMMANDS,
    sellout_cli.COMMANDS,
)


def init_app(app: Flask) -> None:
    group = click.Group("channel", help="The channel program: catalogue, sell-out, points.")
    for commands in DOMAIN_COMMANDS:
        for command in commands:
            group.add_command(command)
    app.cli.add_command(group)
