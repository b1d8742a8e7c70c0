"""Operator commands shared by every feature: migrations and API keys."""
from __future__ import annotations

from pathlib import Path

import click
from alembic import command
from alembic.config import Config
from flask import current_app

from core.apikeys import ROLES, issue_key
from core.db import db
from core.settings import PROJECT_ROOT


def alembic_config(database_url: str) -> Config:
    config = Config(str(PROJECT_ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    config.attributes["database_url"] = database_url
    return config


@click.command("migrate")
@click.option("--revision", default="head", show_default=True)
def migrate_command(revision: str) -> None:
    """Upgrade the database schema to the given Alembic revision."""
    settings = current_app.extensions["handoff.settings"]
    if settings.database_url.startswith("sqlite:///"):
        Path(settings.database_url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    command.upgrade(alembic_config(settings.database_url), revision)
    click.echo(f"database at revision {revision}")


@click.group("keys")
def keys_group() -> None:
    """Create API keys."""


@keys_group.command("create")
@click.option("--role", type=click.Choice(ROLES), required=True)
@click.option("--advertiser-id", type=int)
@click.option("--partner-id", type=int)
@click.option("--label", default="")
def create_key_command(role: str, advertiser_id: int | None, partner_id: int | None, label: str) -> None:
    """Create a key; it is printed once and stored only as a hash."""
    try:
        _, plaintext = issue_key(role, advertiser_id=advertiser_id, partner_id=partner_id, label=label)
        db.session.commit()
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None
    click.echo(plaintext)


def init_app(app) -> None:
    app.cli.add_command(migrate_command)
    app.cli.add_command(keys_group)
