"""Test fixtures: every app-level test runs on SQLite and on PostgreSQL; stream tests use real Redis.

Services: TEST_DATABASE_URL (default: the local PostgreSQL database ``test``) and TEST_REDIS_URL
(default: redis://127.0.0.1:6379/0, keys under a prefix of this run). Without them the tests that need
them are skipped and say why, except under CI=true, where a missing service fails the run.
"""

from __future__ import annotations

import os
import tempfile
import uuid

import pytest

# Importing ``app`` builds the module-level app; keep its instance folder out of the working tree.
os.environ.setdefault("HANDOFF_INSTANCE_PATH", tempfile.mkdtemp(prefix="handoff-test-instance-"))
os.environ.pop("HANDOFF_ENV", None)
os.environ.pop("REDIS_URL", None)
os.environ.pop("DATABASE_URL", None)

from alembic import command
from sqlalchemy import create_engine, text

from app import create_app
from core.cli import alembic_config
from core.db import db
from core.settings import Settings
from tests.services import postgres_url, redis_client

# The browser tests' fixtures (``browser``, ``site``), available to every test module.
pytest_plugins = ["tests.browser"]
IN_CI = os.environ.get("CI", "").lower() == "true"
TEST_SECRET = "test-secret-" + "x" * 40


def require_service(available: bool, reason: str) -> None:
    if available:
        return
    if IN_CI:
        pytest.fail(f"{reason} (CI=true: a missing service is a failure)", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def pg_base_url():
    url, problem = postgres_url()
    require_service(url is not None, f"PostgreSQL unavailable: {problem}")
    return url


@pytest.fixture(scope="session")
def pg_schema_url(pg_base_url):
    """A private schema for this run, so concurrent runs and the migration tests never collide.

    Its tables are made by ``alembic upgrade head``, as production's are, so every PostgreSQL test runs
    on the migrated schema; SQLite tests keep ``db.create_all()`` (tests/core/test_migrations.py checks
    that both give the same schema).
    """
    schema = f"handoff_t_{uuid.uuid4().hex[:10]}"
    engine = create_engine(pg_base_url)
    with engine.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    separator = "&" if "?" in pg_base_url else "?"
    url = f"{pg_base_url}{separator}options=-csearch_path%3D{schema}"
    config = alembic_config(url)
    config.attributes["configure_logging"] = False
    command.upgrade(config, "head")
    yield url
    with engine.begin() as connection:
        connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    engine.dispose()


@pytest.fixture(scope="session")
def redis_url():
    client, url, problem = redis_client()
    require_service(client is not None, f"Redis unavailable: {problem}")
    return url


@pytest.fixture
def redis_prefix(redis_url):
    import redis as redis_lib

    prefix = f"handoff-test-{uuid.uuid4().hex[:8]}:"
    yield prefix
    client = redis_lib.Redis.from_url(redis_url)
    keys = list(client.scan_iter(f"{prefix}*", count=1000))
    if keys:
        client.delete(*keys)
    client.close()


def make_settings(database_url: str, tmp_path, **overrides) -> Settings:
    values = dict(
        database_url=database_url,
        secret_key=TEST_SECRET,
        public_base_url="http://handoff.test",
        instance_path=tmp_path,
        link_cache_seconds=0,
    )
    values.update(overrides)
    return Settings(**values)


def _database_url(request, tmp_path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'handoff.db'}"
    return request.getfixturevalue("pg_schema_url")


def _build(settings: Settings):
    app = create_app(settings)
    app.config["TESTING"] = True
    if settings.database_url.startswith("sqlite"):
        with app.app_context():
            db.create_all()
    return app


def _teardown(app) -> None:
    with app.app_context():
        db.session.remove()
        if db.engine.dialect.name == "postgresql":
            tables = ", ".join(f'"{t.name}"' for t in db.metadata.sorted_tables)
            with db.engine.begin() as connection:
                connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        db.engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def app(request, tmp_path):
    """The embedded mode (no Redis): clicks go straight to the database."""
    app = _build(make_settings(_database_url(request, tmp_path), tmp_path))
    with app.app_context():
        yield app
    _teardown(app)


@pytest.fixture(params=["sqlite", "postgresql"])
def stream_app(request, tmp_path, redis_url, redis_prefix):
    """Production's click path: clicks go to the Redis stream and a worker stores them."""
    app = _build(
        make_settings(
            _database_url(request, tmp_path),
            tmp_path,
            redis_url=redis_url,
            redis_prefix=redis_prefix,
            worker_claim_idle_ms=200,
        )
    )
    with app.app_context():
        yield app
    _teardown(app)


@pytest.fixture
def client(app):
    return app.test_client()


SMALL_RATE_LIMITS = dict(
    rate_limit_auth_failures="3/hour",
    rate_limit_pixel="5/hour",
    rate_limit_pixel_errors="2/hour",
    rate_limit_unknown_links="3/hour",
    rate_limit_landing_helper="4/hour",
)


@pytest.fixture(params=["memory", "redis"])
def limited_app(request, tmp_path):
    """Small rate limits (SMALL_RATE_LIMITS), counted in memory as embedded or in Redis as in production.

    Hour windows, so no limit resets while a test runs; SQLite alone, since the limits never touch the database.
    """
    overrides: dict = dict(SMALL_RATE_LIMITS)
    if request.param == "redis":
        overrides.update(
            redis_url=request.getfixturevalue("redis_url"), redis_prefix=request.getfixturevalue("redis_prefix")
        )
    app = _build(make_settings(f"sqlite:///{tmp_path / 'handoff.db'}", tmp_path, **overrides))
    with app.app_context():
        yield app
    _teardown(app)
