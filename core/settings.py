"""All settings, read in one place from environment variables.

Production (``HANDOFF_ENV=production``) refuses to start without its database, Redis, secret and
public URL. The embedded default runs on SQLite with no Redis and keeps a generated secret in the
instance folder, so a newcomer needs nothing but the start command.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from limits import parse

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_INSTANCE_PATH = PROJECT_ROOT / "instance"


class ConfigurationError(RuntimeError):
    """A setting is missing or malformed; the message says which and how to fix it."""


@dataclass(frozen=True)
class Settings:
    database_url: str
    secret_key: str
    public_base_url: str
    redis_url: str | None = None
    production: bool = False
    redis_prefix: str = "handoff:"
    link_cache_seconds: int = 30
    trusted_proxy_count: int = 0
    worker_batch_size: int = 500
    worker_claim_idle_ms: int = 30_000
    # Postbacks to loopback, private and link-local addresses are refused unless this is set.
    allow_private_postback_targets: bool = False
    # One postback attempt (connect, send, the whole answer) ends at this many seconds, however slowly the
    # partner's server drips; the worker's postback round lasts about this long at most.
    postback_deadline_seconds: int = 10
    # Request bodies past this are answered 413 before they are read; the API's largest (a commission plan,
    # a tax regime) are a few kilobytes.
    max_body_bytes: int = 1024 * 1024
    # Rate limits in Flask-Limiter's notation ("20/minute"), counted per address (failed keys) or per /24 or /48
    # network; core/api/ratelimits.py says what each one counts.
    rate_limit_auth_failures: str = "20/minute"
    rate_limit_pixel: str = "120/minute"
    rate_limit_pixel_errors: str = "30/minute"
    rate_limit_unknown_links: str = "60/minute"
    # The landing helper's token lookups (/t/ref) per network: one per page view that carries a token.
    rate_limit_landing_helper: str = "600/minute"
    # POST /login and /password/forgot per client address, on top of the per-person lock-out.
    rate_limit_logins: str = "10/minute"
    # Applications sent with the public /apply form per client address.
    rate_limit_applications: str = "5/hour"
    # A portal session ends after this long without a page request, and this long after sign-in in any case.
    session_idle_minutes: int = 120
    session_max_hours: int = 24
    # Password reset mail; without a host the embedded default logs the link instead of sending it.
    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_sender: str = "handoff@localhost"
    instance_path: Path = field(default=DEFAULT_INSTANCE_PATH)

    @property
    def click_stream_key(self) -> str:
        return f"{self.redis_prefix}clicks"

    @property
    def uses_click_stream(self) -> bool:
        return self.redis_url is not None


def _env_int(environ: Mapping[str, str], name: str, default: int, minimum: int = 0) -> int:
    raw = environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigurationError(f"{name} must be an integer, got {raw!r}") from None
    if value < minimum:
        raise ConfigurationError(f"{name} must be at least {minimum}, got {value}")
    return value


def _env_bool(environ: Mapping[str, str], name: str) -> bool:
    raw = environ.get(name, "").strip().lower()
    if raw in ("", "0", "false", "no"):
        return False
    if raw in ("1", "true", "yes"):
        return True
    raise ConfigurationError(f"{name} must be true or false, got {raw!r}")


def _env_str(environ: Mapping[str, str], name: str) -> str | None:
    value = environ.get(name, "").strip()
    return value or None


def _env_rate_limit(environ: Mapping[str, str], name: str, default: str) -> str:
    value = _env_str(environ, name) or default
    try:
        parse(value)
    except ValueError:
        raise ConfigurationError(f"{name} must be a rate like '20/minute' or '5 per second', got {value!r}") from None
    return value


def _embedded_secret(instance_path: Path) -> str:
    """Generate the embedded default's secret once and keep it private in the instance folder."""
    secret_file = instance_path / "secret_key"
    if secret_file.exists():
        return secret_file.read_text().strip()
    instance_path.mkdir(parents=True, exist_ok=True)
    value = secrets.token_urlsafe(48)
    fd = os.open(secret_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(value)
    return value


def _check_base_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigurationError(f"PUBLIC_BASE_URL must be an http(s) URL, got {url!r}")
    return url.rstrip("/")


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Build settings from the environment, failing fast with a message an operator can act on."""
    environ = os.environ if environ is None else environ
    production = environ.get("HANDOFF_ENV", "embedded").strip().lower() == "production"
    instance_path = Path(environ.get("HANDOFF_INSTANCE_PATH") or DEFAULT_INSTANCE_PATH)
    database_url = _env_str(environ, "DATABASE_URL")
    redis_url = _env_str(environ, "REDIS_URL")
    secret_key = _env_str(environ, "SECRET_KEY")
    public_base_url = _env_str(environ, "PUBLIC_BASE_URL")

    if production:
        missing = [
            name
            for name, value in (
                ("DATABASE_URL", database_url),
                ("REDIS_URL", redis_url),
                ("SECRET_KEY", secret_key),
                ("PUBLIC_BASE_URL", public_base_url),
            )
            if value is None
        ]
        if missing:
            raise ConfigurationError(
                "HANDOFF_ENV=production needs " + ", ".join(missing) + " (see README, Configuration)"
            )
        assert database_url and secret_key and public_base_url  # for the type checker: none is missing
        if len(secret_key) < 32:
            raise ConfigurationError("SECRET_KEY must be at least 32 characters")
    else:
        instance_path.mkdir(parents=True, exist_ok=True)
        database_url = database_url or f"sqlite:///{instance_path / 'handoff.db'}"
        secret_key = secret_key or _embedded_secret(instance_path)
        public_base_url = public_base_url or "http://127.0.0.1:8000"

    return Settings(
        database_url=database_url,
        secret_key=secret_key,
        public_base_url=_check_base_url(public_base_url),
        redis_url=redis_url,
        production=production,
        redis_prefix=environ.get("REDIS_PREFIX", "handoff:"),
        link_cache_seconds=_env_int(environ, "LINK_CACHE_SECONDS", 30),
        trusted_proxy_count=_env_int(environ, "TRUSTED_PROXY_COUNT", 0),
        worker_batch_size=_env_int(environ, "WORKER_BATCH_SIZE", 500, minimum=1),
        worker_claim_idle_ms=_env_int(environ, "WORKER_CLAIM_IDLE_MS", 30_000, minimum=100),
        allow_private_postback_targets=_env_bool(environ, "ALLOW_PRIVATE_POSTBACK_TARGETS"),
        postback_deadline_seconds=_env_int(environ, "POSTBACK_DEADLINE_SECONDS", 10, minimum=1),
        max_body_bytes=_env_int(environ, "MAX_BODY_BYTES", 1024 * 1024, minimum=1024),
        rate_limit_auth_failures=_env_rate_limit(environ, "RATE_LIMIT_AUTH_FAILURES", "20/minute"),
        rate_limit_pixel=_env_rate_limit(environ, "RATE_LIMIT_PIXEL", "120/minute"),
        rate_limit_pixel_errors=_env_rate_limit(environ, "RATE_LIMIT_PIXEL_ERRORS", "30/minute"),
        rate_limit_unknown_links=_env_rate_limit(environ, "RATE_LIMIT_UNKNOWN_LINKS", "60/minute"),
        rate_limit_landing_helper=_env_rate_limit(environ, "RATE_LIMIT_LANDING_HELPER", "600/minute"),
        rate_limit_logins=_env_rate_limit(environ, "RATE_LIMIT_LOGINS", "10/minute"),
        rate_limit_applications=_env_rate_limit(environ, "RATE_LIMIT_APPLICATIONS", "5/hour"),
        session_idle_minutes=_env_int(environ, "SESSION_IDLE_MINUTES", 120, minimum=1),
        session_max_hours=_env_int(environ, "SESSION_MAX_HOURS", 24, minimum=1),
        smtp_host=_env_str(environ, "SMTP_HOST"),
        smtp_port=_env_int(environ, "SMTP_PORT", 25, minimum=1),
        smtp_sender=_env_str(environ, "SMTP_SENDER") or "handoff@localhost",
        instance_path=instance_path,
    )
