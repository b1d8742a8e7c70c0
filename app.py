"""Handoff: the app factory, and ``app`` for gunicorn and ``flask --app app``."""

from __future__ import annotations

import logging

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

import channel
import core.api.auth
import core.api.errors
import core.api.limits
import core.api.pages
import core.api.ratelimits
import core.cli
import core.config_cache
import core.i18n
import core.people
import payouts
import tracker
from core import redis as redis_connection
from core.api import openapi
from core.api.jsonio import DecimalJSONProvider
from core.db import db
from core.health import bp as health_bp
from core.settings import Settings, load_settings


def create_app(settings: Settings | None = None) -> Flask:
    settings = settings or load_settings()
    app = Flask(__name__, instance_path=str(settings.instance_path), instance_relative_config=False)
    app.json = DecimalJSONProvider(app)
    # Flask's SECRET_KEY (set by core.people, derived from the secret, core/keys.py) signs only the cookie that
    # holds the forms' CSRF token. Flask therefore opens a session on every request, a click included: with no
    # cookie that is an empty dict and no Set-Cookie, about 5 µs measured here with the serializer built once
    # (core/people/browser.py); the click path and the API never write it, so they answer without cookies.
    app.config.update(
        SQLALCHEMY_DATABASE_URI=settings.database_url,
        SQLALCHEMY_ENGINE_OPTIONS=_engine_options(settings.database_url),
        JSON_SORT_KEYS=False,
        MAX_CONTENT_LENGTH=settings.max_body_bytes,
    )
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if settings.trusted_proxy_count:
        # Wrapping wsgi_app is Flask's documented way to add middleware; mypy sees a method assignment.
        proxied = ProxyFix(app.wsgi_app, x_for=settings.trusted_proxy_count, x_proto=settings.trusted_proxy_count)
        app.wsgi_app = proxied  # type: ignore[method-assign]

    redis = redis_connection.connect(settings)
    app.extensions["handoff.settings"] = settings
    app.extensions["handoff.redis"] = redis
    db.init_app(app)
    core.config_cache.init_app(app)
    core.api.limits.init_app(app)
    core.api.ratelimits.init_app(app, settings)
    # Keys are checked before the body is read: core.api.auth's hook must run ahead of core.api.errors' body check.
    core.api.auth.init_app(app)
    core.api.errors.init_app(app)
    core.cli.init_app(app)
    core.people.init_app(app, settings)
    core.api.pages.init_app(app)
    core.i18n.init_app(app)
    app.register_blueprint(health_bp)
    tracker.init_app(app, settings, redis)
    payouts.init_app(app)
    channel.init_app(app)
    openapi.register(app)
    return app


def _engine_options(database_url: str) -> dict:
    if database_url.startswith("sqlite"):
        # Several gunicorn workers share one SQLite file: wait for the lock instead of failing.
        return {"connect_args": {"timeout": 15}}
    return {"pool_pre_ping": True, "pool_size": 5, "max_overflow": 10}


app = create_app()
