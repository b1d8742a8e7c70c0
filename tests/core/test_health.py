"""``/healthz`` tells a load balancer whether this node reaches its database and Redis."""

from __future__ import annotations

import socket

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from app import create_app
from core.db import db
from tests.conftest import make_settings


def test_embedded_mode_is_healthy_without_redis(app):
    body = app.test_client().get("/healthz").json
    assert body == {"status": "ok", "database": "ok", "redis": "not configured"}


def test_stream_mode_checks_redis(stream_app):
    assert stream_app.test_client().get("/healthz").json["redis"] == "ok"


def test_unreachable_redis_makes_the_node_unhealthy(stream_app, monkeypatch):
    import redis

    def fail():
        raise redis.ConnectionError("refused")

    monkeypatch.setattr(stream_app.extensions["handoff.redis"], "ping", fail)
    response = stream_app.test_client().get("/healthz")
    assert response.status_code == 503 and response.json["redis"].startswith("error")


def _closed_loopback_port() -> int:
    """A port on 127.0.0.1 that nothing listens on: connecting is refused at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.parametrize(
    "database_url",
    [
        lambda tmp_path: f"postgresql+psycopg://handoff@127.0.0.1:{_closed_loopback_port()}/handoff",
        lambda tmp_path: f"sqlite:///{tmp_path / 'no-such-directory' / 'handoff.db'}",
    ],
    ids=["postgresql-refused", "sqlite-unopenable"],
)
def test_an_unreachable_database_makes_the_node_unhealthy(tmp_path, database_url):
    # No tables are created: the app never touches its database before the first request.
    app = create_app(make_settings(database_url(tmp_path), tmp_path))
    with app.app_context():
        response = app.test_client().get("/healthz")
        assert response.status_code == 503
        assert response.json == {
            "status": "unavailable",
            "database": "error: OperationalError",
            "redis": "not configured",
        }
        db.engine.dispose()


@pytest.mark.parametrize("app", ["postgresql"], indirect=True)
def test_a_dropped_database_connection_is_replaced_before_the_next_probe(app):
    """PostgreSQL restarted or a proxy cut the idle connection: the pool's ping finds it dead and reconnects."""
    client = app.test_client()
    assert client.get("/healthz").status_code == 200
    backend = db.session.execute(text("SELECT pg_backend_pid()")).scalar()
    db.session.remove()  # end of request: the connection goes back to the pool
    other = create_engine(db.engine.url, poolclass=NullPool)  # not the pool: it would hand out that connection
    with other.connect() as connection:
        assert connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": backend}).scalar() is True
    other.dispose()
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json["database"] == "ok"
    assert db.session.execute(text("SELECT pg_backend_pid()")).scalar() != backend
