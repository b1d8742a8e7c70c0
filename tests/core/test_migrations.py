"""Alembic: one head, ``upgrade`` from empty works on SQLite and PostgreSQL, and matches the models.

Alembic's ``compare_metadata`` checks tables, columns, types and indexes but not CHECK constraints, and
server defaults only when asked. ``schema_of`` reads both through SQLAlchemy's inspector instead: the
migrated database is compared with one the models build on the same database engine, so each side's
SQL comes back in that engine's own spelling.
"""

from __future__ import annotations

import ast
import json
import re
import uuid
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import CheckConstraint, DefaultClause, Index, MetaData, create_engine, inspect, text

from core.cli import alembic_config
from core.db import NAMING_CONVENTION, db


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


# The inspector's view of a schema


def normalise_sql(sql: str | None) -> str | None:
    """Whitespace collapsed, no space inside parentheses, redundant outer parentheses removed."""
    if sql is None:
        return None
    sql = re.sub(r"\s+", " ", str(sql)).strip()
    sql = re.sub(r"\(\s+", "(", re.sub(r"\s+\)", ")", sql))
    while sql.startswith("(") and sql.endswith(")") and _wraps_whole(sql):
        sql = sql[1:-1].strip()
    return sql


def _wraps_whole(sql: str) -> bool:
    """Whether the first parenthesis closes at the last character, as in ``(a) OR (b)`` it does not."""
    depth = 0
    for position, char in enumerate(sql):
        depth += {"(": 1, ")": -1}.get(char, 0)
        if depth == 0:
            return position == len(sql) - 1
    return False


def schema_of(url: str) -> dict[str, dict]:
    """Per table: columns (type, nullable, server default), CHECKs by name, indexes, unique keys."""
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            inspector = inspect(connection)
            return {
                table: {
                    "column": {
                        column["name"]: (str(column["type"]), column["nullable"], normalise_sql(column.get("default")))
                        for column in inspector.get_columns(table)
                    },
                    "check": {
                        check["name"]: normalise_sql(check["sqltext"])
                        for check in inspector.get_check_constraints(table)
                    },
                    "index": {
                        index["name"]: (tuple(index["column_names"]), bool(index["unique"]))
                        for index in inspector.get_indexes(table)
                    },
                    "unique": {
                        unique["name"]: tuple(unique["column_names"])
                        for unique in inspector.get_unique_constraints(table)
                    },
                }
                for table in inspector.get_table_names()
                if table != "alembic_version"
            }
    finally:
        engine.dispose()


def schema_differences(migrated: dict, models: dict) -> list[tuple[str, str, str, str]]:
    """(table, what, name, how) for every difference; an empty list when the schemas agree."""
    found = []
    for table in sorted(set(migrated) | set(models)):
        if table not in models or table not in migrated:
            found.append((table, "table", table, "only in the models" if table in models else "only in the migrations"))
            continue
        for what in ("column", "check", "index", "unique"):
            ours, theirs = migrated[table][what], models[table][what]
            for name in sorted(set(ours) | set(theirs)):
                if name not in theirs:
                    found.append((table, what, name, "only in the migrations"))
                elif name not in ours:
                    found.append((table, what, name, "only in the models"))
                elif ours[name] != theirs[name]:
                    found.append((table, what, name, f"migrations {ours[name]!r} != models {theirs[name]!r}"))
    return found


def describe(differences) -> str:
    return "\n".join(f"{table} {what} {name}: {how}" for table, what, name, how in differences)


@pytest.fixture
def new_database(request, tmp_path):
    """Makes empty databases of the test's kind: SQLite files, or PostgreSQL schemas dropped afterwards."""
    kind = request.param
    schemas = []
    base = request.getfixturevalue("pg_base_url") if kind == "postgresql" else None

    def make() -> str:
        name = f"handoff_m_{uuid.uuid4().hex[:10]}"
        if kind == "sqlite":
            return f"sqlite:///{tmp_path / name}.db"
        engine = create_engine(base)
        with engine.begin() as connection:
            connection.execute(text(f'CREATE SCHEMA "{name}"'))
        engine.dispose()
        schemas.append(name)
        separator = "&" if "?" in base else "?"
        return f"{base}{separator}options=-csearch_path%3D{name}"

    yield make
    if schemas:
        engine = create_engine(base)
        with engine.begin() as connection:
            for name in schemas:
                connection.execute(text(f'DROP SCHEMA "{name}" CASCADE'))
        engine.dispose()


def migrated(url: str, revision: str = "head"):
    config = alembic_config(url)
    config.attributes["configure_logging"] = False
    command.upgrade(config, revision)
    return config


def built_from(metadata: MetaData, url: str) -> str:
    engine = create_engine(url)
    metadata.create_all(engine)
    engine.dispose()
    return url


BOTH = pytest.mark.parametrize("new_database", ["sqlite", "postgresql"], indirect=True)


@BOTH
def test_upgrade_from_empty_matches_the_models_and_downgrades(new_database):
    url = new_database()
    config = migrated(url)
    engine = create_engine(url)
    with engine.connect() as connection:
        assert compare_metadata(MigrationContext.configure(connection), db.metadata) == []
        assert {"clicks", "links", "offers", "partners", "advertisers", "api_keys"} <= set(
            inspect(connection).get_table_names()
        )
    command.downgrade(config, "base")
    with engine.connect() as connection:
        assert set(inspect(connection).get_table_names()) <= {"alembic_version"}
    engine.dispose()


@BOTH
def test_migrated_checks_server_defaults_and_indexes_match_the_models(new_database):
    schema = schema_of(migrated(new_database()).attributes["database_url"])
    models = schema_of(built_from(db.metadata, new_database()))
    assert set(schema) == set(db.metadata.tables)
    differences = schema_differences(schema, models)
    assert differences == [], describe(differences)
    # The comparison saw the things it compares, named as the naming convention names them.
    assert schema["offers"]["check"].keys() == {
        "ck_offers_status",
        "ck_offers_windows",
        "ck_offers_conflict_rule",
        "ck_offers_review_above",
    }
    assert "deal_registration_days > 0" in schema["offers"]["check"]["ck_offers_windows"]
    assert schema["clicks"]["index"]["ix_clicks_offer_network"] == (("offer_id", "ip_prefix", "created_at"), False)
    assert schema["offers"]["column"]["conflict_rule"][2] is None  # no server default, as in the models


def models_with_deliberate_differences() -> MetaData:
    """The models with a changed CHECK, a renamed CHECK, a server default and three index changes."""
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    for table in db.metadata.sorted_tables:
        table.to_metadata(metadata)
    offers, partners, clicks, links = (metadata.tables[name] for name in ("offers", "partners", "clicks", "links"))

    def drop(table, name):
        item = next(c for c in [*table.constraints, *table.indexes] if c.name == name)
        (table.indexes if isinstance(item, Index) else table.constraints).discard(item)

    drop(offers, "ck_offers_status")
    offers.append_constraint(CheckConstraint("status IN ('active', 'paused', 'archived')", name="status"))
    drop(partners, "ck_partners_not_own_parent")
    partners.append_constraint(CheckConstraint("parent_id IS NULL OR parent_id <> id", name="no_self_parent"))
    partners.c.tier.server_default = DefaultClause(text("'standard'"))
    drop(clicks, "ix_clicks_offer_network")
    Index("ix_clicks_offer_network", clicks.c.offer_id, clicks.c.created_at)
    drop(clicks, "ix_clicks_partner_created")
    Index("ix_clicks_partner_created", clicks.c.partner_id, clicks.c.created_at, unique=True)
    drop(links, "ix_links_offer_id")
    return metadata


@BOTH
def test_the_comparison_reports_checks_defaults_and_indexes_that_differ(new_database):
    schema = schema_of(migrated(new_database()).attributes["database_url"])
    altered = schema_of(built_from(models_with_deliberate_differences(), new_database()))
    differences = schema_differences(schema, altered)
    assert {(table, what, name) for table, what, name, _ in differences} == {
        ("offers", "check", "ck_offers_status"),
        ("partners", "check", "ck_partners_not_own_parent"),
        ("partners", "check", "ck_partners_no_self_parent"),
        ("partners", "column", "tier"),
        ("clicks", "index", "ix_clicks_offer_network"),
        ("clicks", "index", "ix_clicks_partner_created"),
        ("links", "index", "ix_links_offer_id"),
    }, describe(differences)
    how = {(table, name): detail for table, _, name, detail in differences}
    assert "archived" in how[("offers", "ck_offers_status")]
    assert how[("partners", "ck_partners_not_own_parent")] == "only in the migrations"
    assert how[("partners", "ck_partners_no_self_parent")] == "only in the models"
    assert "standard" in how[("partners", "tier")]
    assert how[("clicks", "ix_clicks_partner_created")].endswith("(('partner_id', 'created_at'), True)")
    assert how[("links", "ix_links_offer_id")] == "only in the migrations"


@pytest.mark.parametrize(
    "sql, normal",
    [
        ("((a = 1) AND (b = 2))", "(a = 1) AND (b = 2)"),
        ("(a = 1) OR (b = 2)", "(a = 1) OR (b = 2)"),
        ("  kind IN ( 'x',\n 'y' ) ", "kind IN ('x', 'y')"),
        (None, None),
    ],
)
def test_sql_is_normalised_without_changing_its_meaning(sql, normal):
    assert normalise_sql(sql) == normal


OFFER_DEFAULTS = ("custom_events", "conflict_rule", "pixel_requires_approval", "deal_registration_days")


@BOTH
def test_dropping_the_offer_server_defaults_keeps_existing_rows(new_database):
    """0007 rebuilds ``offers`` on SQLite while links point at it; rows and references survive both ways."""
    url = new_database()
    config = migrated(url, "0006_tax_regime_edits")
    engine = create_engine(url)
    with engine.begin() as connection:
        for statement in (
            "INSERT INTO advertisers (id, name, contact_email, created_at)"
            " VALUES (1, 'A', 'a@a.example', '2031-01-01')",
            "INSERT INTO partners (id, name, contact_email, kind, country, tier, status, created_at)"
            " VALUES (1, 'P', 'p@p.example', 'affiliate', 'DE', 'standard', 'active', '2031-01-01')",
            "INSERT INTO offers (id, advertiser_id, slug, name, landing_url, allowed_hosts, token_param,"
            " click_window_days, lead_window_days, hold_days, status, created_at)"
            " VALUES (1, 1, 'old', 'Old', 'https://a.example', '[]', 'atk', 90, 365, 30, 'active', '2031-01-01')",
            "INSERT INTO links (id, code, partner_id, offer_id, created_at) VALUES (1, 'old-1', 1, 1, '2031-01-01')",
        ):
            connection.execute(text(statement))

    def offer_defaults():
        with engine.connect() as connection:
            columns = {c["name"]: c.get("default") for c in inspect(connection).get_columns("offers")}
            rows = connection.execute(
                text(
                    "SELECT o.slug, o.conflict_rule, o.deal_registration_days, l.code"
                    " FROM offers o JOIN links l ON l.offer_id = o.id"
                )
            ).all()
        return {name: columns[name] is not None for name in OFFER_DEFAULTS}, [tuple(row) for row in rows]

    assert offer_defaults() == (dict.fromkeys(OFFER_DEFAULTS, True), [("old", "token_wins", 180, "old-1")])
    command.upgrade(config, "head")
    assert offer_defaults() == (dict.fromkeys(OFFER_DEFAULTS, False), [("old", "token_wins", 180, "old-1")])
    command.downgrade(config, "0006_tax_regime_edits")
    assert offer_defaults() == (dict.fromkeys(OFFER_DEFAULTS, True), [("old", "token_wins", 180, "old-1")])
    if engine.dialect.name == "sqlite":
        with engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA foreign_key_check").all() == []
    engine.dispose()


@BOTH
def test_existing_offers_trust_server_to_server_only_and_get_a_secret_each(new_database):
    """0008 fills the new columns of offers already stored, then drops the defaults that filled them."""
    url = new_database()
    config = migrated(url, "0007_offer_server_defaults")
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO advertisers (id, name, contact_email, created_at)"
                " VALUES (1, 'A', 'a@a.example', '2031-01-01')"
            )
        )
        for number in (1, 2):
            connection.execute(
                text(
                    "INSERT INTO offers (id, advertiser_id, slug, name, landing_url, allowed_hosts, token_param,"
                    " click_window_days, lead_window_days, hold_days, status, custom_events, conflict_rule,"
                    " pixel_requires_approval, deal_registration_days, created_at)"
                    f" VALUES ({number}, 1, 'o-{number}', 'O', 'https://a.example', '[]', 'atk', 90, 365, 30,"
                    " 'active', '[]', 'token_wins', false, 180, '2031-01-01')"
                )
            )
    command.upgrade(config, "head")
    with engine.connect() as connection:
        rows = connection.execute(
            text("SELECT trusted_channels, pixel_signing, pixel_secret, review_above_minor FROM offers ORDER BY id")
        ).all()
        defaults = {c["name"]: c.get("default") for c in inspect(connection).get_columns("offers")}
    assert [(json.loads(t) if isinstance(t, str) else t, bool(s), m) for t, s, _, m in rows] == [
        (["api"], False, None)
    ] * 2
    secrets = [row.pixel_secret for row in rows]
    assert all(re.fullmatch(r"[0-9a-f]{64}", s) for s in secrets) and secrets[0] != secrets[1]
    assert [defaults[name] for name in ("trusted_channels", "pixel_signing", "pixel_secret")] == [None] * 3
    command.downgrade(config, "0007_offer_server_defaults")
    engine.dispose()
