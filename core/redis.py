"""One Redis connection pool per process, with timeouts short enough that a dead Redis cannot stall a click.

Everything Handoff keeps in Redis lives under one prefix (``REDIS_PREFIX``): ``clicks`` for the click
stream, ``uniq:`` for unique-visit markers, ``cache:``, ``rl:`` and ``jobs:`` for caches, rate
limits and background jobs.
"""

from __future__ import annotations

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from core.settings import Settings


def connect(settings: Settings) -> redis.Redis | None:
    if settings.redis_url is None:
        return None
    return redis.Redis.from_url(
        settings.redis_url,
        socket_connect_timeout=0.25,
        socket_timeout=1.0,
        health_check_interval=30,
        # One immediate retry survives a connection left stale by a Redis restart; anything longer
        # would hold a click, which falls back to the database instead.
        retry=Retry(NoBackoff(), 1),
    )
