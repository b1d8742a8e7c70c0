"""Finding the local PostgreSQL and Redis the tests run against, and starting a private Redis."""

from __future__ import annotations

import os
import select
import socket
import subprocess
import time
from pathlib import Path

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


def free_loopback_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class PrivateRedis:
    """A redis-server of the test's own on a free loopback port, appending every write to disk.

    ``start`` returns once the server says it accepts connections (read from its log on stdout, with a
    deadline), so nothing polls or sleeps; a restart keeps the port and, through the append-only file,
    the data.
    """

    READY = b"Ready to accept connections"

    def __init__(self, directory: Path):
        self.directory = directory
        self.port = free_loopback_port()
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, timeout: float = 10.0) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.directory)]
            + ["--appendonly", "yes", "--appendfsync", "always", "--save", "", "--logfile", ""],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        output = b""
        deadline = time.monotonic() + timeout
        while self.READY not in output:
            remaining = deadline - time.monotonic()
            ready, _, _ = select.select([self.process.stdout], [], [], max(remaining, 0))
            chunk = os.read(self.process.stdout.fileno(), 4096) if ready else b""
            if not chunk:
                self.stop()
                raise RuntimeError(f"redis-server did not start on port {self.port}: {output.decode(errors='replace')}")
            output += chunk

    def kill(self) -> None:
        """SIGKILL: no shutdown, as when the host dies."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def stop(self) -> None:
        self.kill()
        if self.process is not None and self.process.stdout is not None:
            self.process.stdout.close()
