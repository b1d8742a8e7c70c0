"""A worker keeps the keys it found active while no key was issued or revoked (core.config_cache): the
lookup is skipped meanwhile, and a revocation, from any process, is seen by the very next request."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import event, select

from app import create_app
from core.api.apikeys import ApiKey
from core.db import db
from tests.factories import auth


def key_lookups(work) -> int:
    seen = []

    def note(conn, cursor, statement, parameters, context, executemany):
        if "FROM api_keys" in " ".join(statement.split()):
            seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", note)
    try:
        work()
    finally:
        event.remove(db.engine, "before_cursor_execute", note)
    return len(seen)


def test_a_key_is_looked_up_once_and_then_kept(stream_app):
    headers, client = auth("admin"), stream_app.test_client()
    statuses = []
    lookups = key_lookups(
        lambda: statuses.extend(client.get("/api/v1/offers", headers=headers).status_code for _ in range(3))
    )
    assert (lookups, statuses) == (1, [200, 200, 200])


def test_a_key_revoked_by_another_process_is_refused_on_the_next_request(stream_app):
    headers, client = auth("admin"), stream_app.test_client()
    assert client.get("/api/v1/offers", headers=headers).status_code == 200
    other = create_app(stream_app.extensions["handoff.settings"])
    with other.app_context():
        for key in db.session.scalars(select(ApiKey)):
            key.revoked_at = datetime.now(UTC)
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    response = client.get("/api/v1/offers", headers=headers)
    assert (response.status_code, response.json["error"]) == (401, "unknown or revoked API key")


def test_without_redis_every_request_looks_the_key_up(app):
    headers, client = auth("admin"), app.test_client()
    assert key_lookups(lambda: [client.get("/api/v1/offers", headers=headers) for _ in range(2)]) == 2


def test_a_refused_key_is_not_kept(stream_app):
    client = stream_app.test_client()
    for _ in range(2):
        assert client.get("/api/v1/offers", headers={"Authorization": "Bearer hk_adm_nope"}).status_code == 401
    assert key_lookups(lambda: client.get("/api/v1/offers", headers={"Authorization": "Bearer hk_adm_nope"})) == 1
