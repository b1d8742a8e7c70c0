"""Failed API keys per address: only failures count, a 429 says when to retry, and a dead storage lets requests by."""

from __future__ import annotations

import pytest
from flask_limiter import Limiter

from app import create_app
from core.api.ratelimits import rate_limits
from core.db import db
from core.settings import ConfigurationError, load_settings
from tests.conftest import SMALL_RATE_LIMITS, make_settings
from tests.factories import auth
from tests.services import free_loopback_port

LIMIT = 3  # SMALL_RATE_LIMITS' auth failures per hour
BAD = {"Authorization": "Bearer not-a-key"}


def get_offers(client, headers, address):
    return client.get("/api/v1/offers", headers=headers, environ_base={"REMOTE_ADDR": address})


def test_failed_keys_from_one_address_are_refused_with_retry_after_while_another_address_passes(limited_app):
    client, good = limited_app.test_client(), auth("admin")
    for _ in range(LIMIT):
        assert get_offers(client, BAD, "192.0.2.10").status_code == 401
    refused = get_offers(client, BAD, "192.0.2.10")
    assert refused.status_code == 429
    assert refused.json["status"] == 429 and "too many failed API keys" in refused.json["error"]
    assert 1 <= int(refused.headers["Retry-After"]) <= 3600
    # Refused before the key is looked up, so a guess that happens to be right does not get through either.
    assert get_offers(client, good, "192.0.2.10").status_code == 429
    # The next address in the same /24 is counted on its own: this limit is per address.
    assert get_offers(client, BAD, "192.0.2.11").status_code == 401
    assert get_offers(client, good, "192.0.2.11").status_code == 200


def test_successful_keys_never_count(limited_app):
    client, good = limited_app.test_client(), auth("admin")
    for _ in range(LIMIT - 1):
        assert get_offers(client, BAD, "192.0.2.20").status_code == 401
    for _ in range(LIMIT * 3):
        assert get_offers(client, good, "192.0.2.20").status_code == 200
    assert get_offers(client, BAD, "192.0.2.20").status_code == 401  # the LIMIT-th failure is still answered
    assert get_offers(client, BAD, "192.0.2.20").status_code == 429


def test_a_key_of_another_role_is_not_a_failed_authentication(limited_app):
    client, finance_key = limited_app.test_client(), auth("finance")
    for _ in range(LIMIT + 2):
        refused = client.post("/api/v1/advertisers", headers=finance_key, environ_base={"REMOTE_ADDR": "192.0.2.40"})
        assert refused.status_code == 403
    assert get_offers(client, BAD, "192.0.2.40").status_code == 401


def test_with_the_storage_unreachable_every_request_passes_and_is_counted(tmp_path):
    dead_redis = f"redis://127.0.0.1:{free_loopback_port()}/0"
    settings = make_settings(
        f"sqlite:///{tmp_path / 'handoff.db'}", tmp_path, redis_url=dead_redis, **SMALL_RATE_LIMITS
    )
    app = create_app(settings)
    with app.app_context():
        db.create_all()
        client = app.test_client()
        for _ in range(LIMIT * 2):
            assert get_offers(client, BAD, "192.0.2.30").status_code == 401
        for number in range(8):  # past both pixel limits: each answered with its GIF and its error stored
            pixel = client.get(f"/p/nope.gif?order_id={number}", environ_base={"REMOTE_ADDR": "192.0.2.30"})
            assert pixel.status_code == 200 and pixel.mimetype == "image/gif"
        for _ in range(LIMIT * 2):
            unknown = client.get("/c/no-such-code", environ_base={"REMOTE_ADDR": "192.0.2.30"})
            assert unknown.status_code == 404
        assert rate_limits().counters["storage_errors"] >= LIMIT * 2 * 2 + 8
        db.session.remove()
        db.engine.dispose()


def test_limits_are_read_from_the_environment_and_checked_at_start(tmp_path):
    base = {"HANDOFF_INSTANCE_PATH": str(tmp_path)}
    defaults = load_settings(base)
    assert (
        defaults.rate_limit_auth_failures,
        defaults.rate_limit_pixel,
        defaults.rate_limit_pixel_errors,
        defaults.rate_limit_unknown_links,
    ) == ("20/minute", "120/minute", "30/minute", "60/minute")
    assert load_settings(base | {"RATE_LIMIT_PIXEL": "10 per second"}).rate_limit_pixel == "10 per second"
    with pytest.raises(ConfigurationError, match="RATE_LIMIT_UNKNOWN_LINKS"):
        load_settings(base | {"RATE_LIMIT_UNKNOWN_LINKS": "lots"})


def test_no_request_runs_flask_limiters_own_hooks(limited_app):
    # They would cost every click tens of microseconds for route limits Handoff never declares.
    hooks = [
        *limited_app.before_request_funcs.get(None, []),
        *limited_app.after_request_funcs.get(None, []),
        *limited_app.teardown_request_funcs.get(None, []),
    ]
    bound_to = [getattr(hook, "__self__", None) for hook in hooks] + [
        arg for hook in hooks for arg in getattr(hook, "args", ())
    ]
    assert not any(isinstance(owner, Limiter) for owner in bound_to)
    assert limited_app.extensions["limiter"]  # bound all the same: its storage answers the limits


def test_counts_live_in_redis_under_the_apps_prefix(redis_url, redis_prefix, tmp_path):
    import redis as redis_lib

    settings = make_settings(
        f"sqlite:///{tmp_path / 'handoff.db'}",
        tmp_path,
        redis_url=redis_url,
        redis_prefix=redis_prefix,
        **SMALL_RATE_LIMITS,
    )
    app = create_app(settings)
    with app.app_context():
        db.create_all()
        assert get_offers(app.test_client(), BAD, "192.0.2.50").status_code == 401
        keys = list(redis_lib.Redis.from_url(redis_url).scan_iter(f"{redis_prefix}rl:*"))
        assert len(keys) == 1 and b"auth_failures" in keys[0] and b"192.0.2.50" in keys[0]
        db.session.remove()
        db.engine.dispose()
