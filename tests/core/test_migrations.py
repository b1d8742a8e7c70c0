"""Alembic: one head, ``upgrade`` from empty works on SQLite and PostgreSQL, and matches the models."""

from __future__ import annotations

import ast
import uuid
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect, text

import core.apikeys  # noqa: F401  (registers the table on the metadata)
import tracker.program.models  # noqa: F401
from core.cli import alembic_config
from core.db import db


def test_there_is_exactly_one_head():
    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    assert len(script.get_heads()) == 1


APP_PACKAGES = {"app", "core", "tracker", "payouts", "channel"}


def imported_modules(source: str) -> set[str]:
    """Every module a Python source imports, at any depth, read from its syntax tree."""
    modules = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            modules.add(node.module)
    return modules


def test_revisions_never_import_app_code():
    """A revision that imports the live models would change meaning as the models change."""
    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    for revision in script.walk_revisions():
        imported = imported_modules(Path(revision.path).read_text())
        assert not {m for m in imported if m.split(".")[0] in APP_PACKAGES}, revision.path


def test_the_import_check_sees_imports_however_they_are_written():
    source = "import os\ndef upgrade():\n    from tracker.program import models as m\n    import core.db, json\n"
    assert imported_modules(source) == {"os", "tracker.program", "core.db", "json"}
    assert imported_modules("x = 'from tracker.models import Click'") == set()


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
        assert {"clicks", "links", "offers", "partners", "advertisers", "api_keys"} <= set(
            inspect(connection).get_table_names()
        )
    command.downgrade(config, "base")
    with engine.connect() as connection:
        assert set(inspect(connection).get_table_names()) <= {"alembic_version"}
    engine.dispose()
