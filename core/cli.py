"""Operator commands shared by every feature: migrations, API keys and the background worker."""

from __future__ import annotations

import signal
from pathlib import Path

import click
from alembic import command
from alembic.config import Config
from flask import Flask, current_app

from core.api.apikeys import ROLES, issue_key
from core.db import db
from core.settings import PROJECT_ROOT
from core.worker import BackgroundWorker


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


@click.command("worker")
@click.option("--burst", is_flag=True, help="Exit once there is nothing left to do.")
@click.option("--batch-size", type=click.IntRange(1, 10_000), default=None, help="Stream entries read at once.")
def worker_command(burst: bool, batch_size: int | None) -> None:
    """Run every feature's background jobs: store clicks from the stream, deliver postbacks, approve commissions."""
    worker = BackgroundWorker.for_app(batch_size=batch_size)
    stopping: list[bool] = []
    # Finish the round in hand on SIGTERM/SIGINT; unacknowledged stream entries would be reclaimed anyway.
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stopping.append(True))
    current_app.logger.info("worker started: %s", worker.describe())
    worker.run(burst=burst, should_stop=lambda: bool(stopping))
    click.echo(worker.report())


def init_app(app: Flask) -> None:
    app.cli.add_command(migrate_command)
    app.cli.add_command(keys_group)
    app.cli.add_command(worker_command)
