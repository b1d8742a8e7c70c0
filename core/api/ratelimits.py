"""Rate limits: failed API keys per address, the pixel and its stored errors per network, unknown link codes.

Counted with Flask-Limiter's fixed-window strategy in Redis (keys under ``<REDIS_PREFIX>rl:``) when
``REDIS_URL`` is set, so every node shares one count; in memory in the embedded default. Each limit is
asked for where it applies, not by Flask-Limiter's per-route hooks: these limits count failures, stored
errors and unknown codes rather than requests, and a click on a known link must not pay for any of it.
A limit whose storage does not answer lets the request pass (failing closed would turn a Redis outage into
an outage of the API and the pixel); ``storage_errors`` counts those requests.
"""

from __future__ import annotations

import logging
import math
import time
from collections import Counter
from collections.abc import Callable
from functools import wraps
from typing import Any, ParamSpec, TypeVar

from flask import Flask, Response, current_app
from flask_limiter import Limiter
from limits import RateLimitItem, parse

from core.settings import Settings

log = logging.getLogger(__name__)
P = ParamSpec("P")
R = TypeVar("R")
# A flood of drops or storage errors must not become a flood of log lines: the first and every this-many-th.
_LOG_EVERY = 1000


class RateLimits:
    """The program's limits by name, each counted per key (an address or a network) in the limiter's storage."""

    def __init__(self, limiter: Limiter, limits: dict[str, str]):
        self._limiter = limiter
        self._items: dict[str, RateLimitItem] = {name: parse(value) for name, value in limits.items()}
        # Read by operators and tests: requests let through because the storage failed, and writes dropped per limit.
        self.counters: Counter[str] = Counter()

    def hit(self, name: str, key: str | None) -> int | None:
        """Count one against ``name`` for ``key``: None within the limit, else the seconds until a retry may pass."""
        return self._ask(name, key, counting=True)

    def exceeded(self, name: str, key: str | None) -> int | None:
        """Like ``hit`` without counting: whether ``key`` has already used up ``name``."""
        return self._ask(name, key, counting=False)

    def admit(self, name: str, key: str | None) -> bool:
        """Count one write against ``name``; False (and the drop counted) when the caller must skip the write."""
        if self.hit(name, key) is None:
            return True
        self._count(f"{name}_dropped", "rate limit %s: dropped a write for %s", name, key)
        return False

    def _ask(self, name: str, key: str | None, counting: bool) -> int | None:
        if not key:
            return None
        item = self._items[name]
        strategy = self._limiter.limiter
        try:
            allowed = strategy.hit(item, name, key) if counting else strategy.test(item, name, key)
            if allowed:
                return None
            reset_at, _ = strategy.get_window_stats(item, name, key)
        except Exception:
            self._count("storage_errors", "rate limit %s for %s: storage unreachable, let through", name, key)
            return None
        return max(1, math.ceil(reset_at - time.time()))

    def _count(self, counter: str, message: str, *args: Any) -> None:
        self.counters[counter] += 1
        seen = self.counters[counter]
        if seen == 1 or seen % _LOG_EVERY == 0:
            log.warning(message + " (%d so far)", *args, seen)


def too_many_requests(retry_after: int, body: str = "") -> Response:
    return Response(
        body, status=429, mimetype="text/plain", headers={"Retry-After": str(retry_after), "Cache-Control": "no-store"}
    )


def rate_limits() -> RateLimits:
    limits: RateLimits = current_app.extensions["handoff.ratelimits"]
    return limits


def limited(name: str, key: Callable[[], str | None]) -> Callable[[Callable[P, R]], Callable[P, R | Response]]:
    """Answer 429 with no body, before the view runs, once ``key()`` has used up the limit ``name``."""

    def decorator(view: Callable[P, R]) -> Callable[P, R | Response]:
        @wraps(view)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R | Response:
            retry_after = rate_limits().hit(name, key())
            if retry_after is not None:
                return too_many_requests(retry_after)
            return view(*args, **kwargs)

        return wrapper

    return decorator


def _limiter(app: Flask, settings: Settings) -> Limiter:
    redis = app.extensions.get("handoff.redis")
    if settings.redis_url is None or redis is None:
        storage_uri, options = "memory://", {}
    else:
        # The app's own pool: its short timeouts and single retry keep a dead Redis from holding a request.
        storage_uri = settings.redis_url
        options = {"connection_pool": redis.connection_pool, "key_prefix": f"{settings.redis_prefix}rl"}
    limiter = Limiter(
        key_func=lambda: "",
        storage_uri=storage_uri,
        storage_options=options,
        strategy="fixed-window",
        headers_enabled=False,
        swallow_errors=True,
    )
    # Flask-Limiter's request hooks resolve route limits on every request, about 40 µs of a click measured here,
    # although Handoff declares none: each limit is asked for where it applies. ``init_app`` registers its hooks
    # only for a limiter the app does not list yet, so listing it first binds the storage without them.
    app.extensions.setdefault("limiter", set()).add(limiter)
    limiter.init_app(app)
    return limiter


def init_app(app: Flask, settings: Settings) -> None:
    """Bind the limiter to the app's Redis (or memory) and the limits named in the settings."""
    app.extensions["handoff.ratelimits"] = RateLimits(
        _limiter(app, settings),
        {
            "auth_failures": settings.rate_limit_auth_failures,
            "pixel": settings.rate_limit_pixel,
            "pixel_errors": settings.rate_limit_pixel_errors,
            "unknown_links": settings.rate_limit_unknown_links,
            "landing_helper": settings.rate_limit_landing_helper,
            "logins": settings.rate_limit_logins,
            "applications": settings.rate_limit_applications,
        },
    )
