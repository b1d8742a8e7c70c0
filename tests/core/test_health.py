"""``/healthz`` tells a load balancer whether this node reaches its database and Redis."""

from __future__ import annotations


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
