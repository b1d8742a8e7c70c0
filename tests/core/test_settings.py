"""Settings: production refuses to start without its secrets; the embedded default makes one secret once."""

from __future__ import annotations

import stat

import pytest

from core.settings import ConfigurationError, load_settings

PRODUCTION = {
    "HANDOFF_ENV": "production",
    "DATABASE_URL": "postgresql+psycopg://db/handoff",
    "REDIS_URL": "redis://cache:6379/0",
    "SECRET_KEY": "s" * 40,
    "PUBLIC_BASE_URL": "https://track.example/",
}


@pytest.mark.parametrize("missing", ["DATABASE_URL", "REDIS_URL", "SECRET_KEY", "PUBLIC_BASE_URL"])
def test_production_names_each_missing_setting(missing):
    environ = {k: v for k, v in PRODUCTION.items() if k != missing}
    with pytest.raises(ConfigurationError, match=missing):
        load_settings(environ)


def test_production_refuses_a_short_secret():
    with pytest.raises(ConfigurationError, match="at least 32"):
        load_settings({**PRODUCTION, "SECRET_KEY": "change-me"})


def test_production_settings_are_read_as_given():
    settings = load_settings({**PRODUCTION, "LINK_CACHE_SECONDS": "5", "REDIS_PREFIX": "p:"})
    assert settings.production and settings.uses_click_stream
    assert settings.public_base_url == "https://track.example"
    assert (settings.link_cache_seconds, settings.click_stream_key) == (5, "p:clicks")


@pytest.mark.parametrize(
    "name, value", [("LINK_CACHE_SECONDS", "soon"), ("WORKER_BATCH_SIZE", "0"), ("PUBLIC_BASE_URL", "track.example")]
)
def test_malformed_values_are_refused_with_their_name(name, value):
    with pytest.raises(ConfigurationError, match=name):
        load_settings({**PRODUCTION, name: value})


def test_embedded_default_generates_a_private_secret_once(tmp_path):
    environ = {"HANDOFF_INSTANCE_PATH": str(tmp_path)}
    first = load_settings(environ)
    second = load_settings(environ)
    assert first.secret_key == second.secret_key and len(first.secret_key) >= 48
    assert stat.S_IMODE((tmp_path / "secret_key").stat().st_mode) == 0o600
    assert first.database_url == f"sqlite:///{tmp_path / 'handoff.db'}"
    assert not first.uses_click_stream and not first.production


def test_private_postback_targets_are_refused_unless_allowed():
    assert not load_settings(PRODUCTION).allow_private_postback_targets
    assert load_settings({**PRODUCTION, "ALLOW_PRIVATE_POSTBACK_TARGETS": "true"}).allow_private_postback_targets
    with pytest.raises(ConfigurationError, match="ALLOW_PRIVATE_POSTBACK_TARGETS"):
        load_settings({**PRODUCTION, "ALLOW_PRIVATE_POSTBACK_TARGETS": "sometimes"})


def test_a_postback_attempt_has_ten_seconds_unless_set():
    assert load_settings(PRODUCTION).postback_deadline_seconds == 10
    assert load_settings({**PRODUCTION, "POSTBACK_DEADLINE_SECONDS": "3"}).postback_deadline_seconds == 3
    with pytest.raises(ConfigurationError, match="POSTBACK_DEADLINE_SECONDS must be at least 1"):
        load_settings({**PRODUCTION, "POSTBACK_DEADLINE_SECONDS": "0"})
