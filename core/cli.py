"""Operator commands shared by every feature: migrations, API keys and the background worker."""

from __future__ import annotations

import signal
from datetime import datetime
from pathlib import Path

import click
from alembic import command
from alembic.config import Config
from flask import Flask, current_app

from core.api.apikeys import ROLES, ApiKey, all_keys, find_keys, issue_key, key_owner, revoke_key
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
    """Create, list and revoke API keys."""


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


def _when(moment: datetime | None, never: str = "never") -> str:
    return moment.strftime("%Y-%m-%d %H:%M") if moment else never


@keys_group.command("list")
def list_keys_command() -> None:
    """List every key: id, prefix, role, owner, label, created, last used (UTC), revoked."""
    click.echo(
        f"{'id':>5}  {'prefix':<13}{'role':<11}{'owner':<32}{'label':<20}{'created':<17} {'last used':<17} revoked"
    )
    for key in all_keys():
        owner = key_owner(key)
        click.echo(
            f"{key.id:>5}  {key.display_prefix:<13}{key.role:<11}{owner or '-'!s:<32}{key.label or '-':<20}"
            f"{_when(key.created_at):<17} {_when(key.last_used_at):<17} {_when(key.revoked_at, 'no')}"
        )


@keys_group.command("revoke")
@click.option("--id", "key_id", type=int, help="The key's id, as `keys list` shows it.")
@click.option("--prefix", help="The start of the key, as `keys list` shows it.")
def revoke_key_command(key_id: int | None, prefix: str | None) -> None:
    """Revoke one key, by id or prefix; it is refused from the next request on."""
    if (key_id is None) == (prefix is None):
        raise click.UsageError("give either --id or --prefix")
    key = _one_key(find_keys(key_id=key_id, prefix=prefix), f"id {key_id}" if prefix is None else f"prefix {prefix!r}")
    if not revoke_key(key):
        click.echo(f"key {key.id} ({key.display_prefix}) was already revoked at {_when(key.revoked_at)} UTC")
        return
    db.session.commit()
    click.echo(f"key {key.id} ({key.display_prefix}) revoked")


def _one_key(found: list[ApiKey], described: str) -> ApiKey:
    if not found:
        raise click.ClickException(f"no key with {described}")
    if len(found) > 1:
        ids = ", ".join(str(key.id) for key in found)
        raise click.ClickException(f"{len(found)} keys match {described} (ids {ids}); give --id or a longer prefix")
    return found[0]


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
