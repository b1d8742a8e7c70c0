"""Alembic: one head, ``upgrade`` from empty works on SQLite and PostgreSQL, and matches the models."""
from __future__ import annotations

import uuid

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect, text

import core.apikeys  # noqa: F401  (registers the table on the metadata)
import tracker.models  # noqa: F401
from core.cli import alembic_config
from core.db import db


def test_there_is_exactly_one_head():
    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    assert len(script.get_heads()) == 1


def test_revisions_never_import_the_app_models():
    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    for revision in script.walk_revisions():
        source = open(revision.path).read()
        assert "tracker.models" not in source and "core.apikeys" not in source and "from app" not in source


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'migrate.db'}"
        return
    base = request.getfixturevalue("pg_base_url")
    schema = f"handoff_m_{uuid.uuid4().hex[:10]}"
    engine = create_engine(base)
    with engine.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    yield f"{base}?options=-csearch_path%3D{schema}"
    with engine.begin() as connection:
        connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    engine.dispose()


def test_upgrade_from_empty_matches_the_models_and_downgrades(empty_database):
    config = alembic_config(empty_database)
    config.attributes["configure_logging"] = False
    command.upgrade(config, "head")
    engine = create_engine(empty_database)
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), db.metadata)
        assert differences == []
        assert {"clicks", "links", "offers", "partners", "advertisers", "api_keys"} <= set(inspect(connection).get_table_names())
    command.downgrade(config, "base")
    with engine.connect() as connection:
        assert set(inspect(connection).get_table_names()) <= {"alembic_version"}
    engine.dispose()
