"""Finding the local PostgreSQL and Redis the tests run against."""

from __future__ import annotations

import os

import redis
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

POSTGRES_CANDIDATES = (
    "postgresql+psycopg://postgres@127.0.0.1:5432/test",
    "postgresql+psycopg://root@127.0.0.1:5432/test",
)


def postgres_url() -> tuple[str | None, str]:
    candidates = [os.environ["TEST_DATABASE_URL"]] if os.environ.get("TEST_DATABASE_URL") else POSTGRES_CANDIDATES
    problem = "no candidate URL"
    for url in candidates:
        engine = create_engine(url, connect_args={"connect_timeout": 3})
        try:
            with engine.connect() as connection:
                connection.execute(text("SELECT 1"))
            return url, ""
        except OperationalError as exc:
            problem = f"{url}: {str(exc.orig).strip().splitlines()[0]}"
        finally:
            engine.dispose()
    return None, problem


def redis_client() -> tuple[redis.Redis | None, str, str]:
    url = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
    client = redis.Redis.from_url(url, socket_connect_timeout=2)
    try:
        client.ping()
        return client, url, ""
    except redis.RedisError as exc:
        return None, url, f"{url}: {exc}"
