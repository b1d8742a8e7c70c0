"""Real processes die: workers killed with SIGKILL, Redis killed and restarted; no click is lost or doubled."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import redis as redis_lib
from sqlalchemy import select

from core.db import db
from core.settings import PROJECT_ROOT
from tests.conftest import TEST_SECRET, _build, _teardown, make_settings, require_service
from tests.factories import LinkFactory
from tests.tracker.helpers import click, click_count
from tracker.clicks import tokens
from tracker.program.models import Click
from tracker.services import tracker


def start_worker(settings) -> subprocess.Popen:
    env = {
        **os.environ,
        "HANDOFF_ENV": "production",
        "DATABASE_URL": settings.database_url,
        "REDIS_URL": settings.redis_url,
        "REDIS_PREFIX": settings.redis_prefix,
        "SECRET_KEY": TEST_SECRET,
        "PUBLIC_BASE_URL": "http://handoff.test",
        "WORKER_CLAIM_IDLE_MS": "300",
        "WORKER_BATCH_SIZE": "50",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "app", "worker"],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=open(os.environ.get("WORKER_LOG", os.devnull), "a"),
    )


def issued_ids(app, code: str, count: int, offset: int = 0) -> set[int]:
    client = app.test_client()
    ids = set()
    for index in range(offset, offset + count):
        response = click(client, code, address=f"10.{index // 60000}.{index // 250 % 240}.{index % 250}")
        token = parse_qs(urlsplit(response.headers["Location"]).query)["atk"][0]
        ids.add(tokens.verify_token(tracker().token_key, token).click_id)
    return ids


def wait_for_count(expected: int, timeout: float = 60.0) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        count = click_count()
        if count >= expected:
            return count
        time.sleep(0.2)
    return click_count()


def stored_ids() -> set[int]:
    db.session.rollback()
    return set(db.session.scalars(select(Click.id)))


def stop(processes) -> None:
    for process in processes:
        if process.poll() is None:
            process.terminate()
    for process in processes:
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


def test_workers_killed_with_sigkill_lose_and_duplicate_nothing(stream_app):
    settings = tracker().settings
    LinkFactory(code="kill-1")
    workers = [start_worker(settings), start_worker(settings)]
    issued: set[int] = set()
    try:
        for round_number in range(4):
            issued |= issued_ids(stream_app, "kill-1", 400, offset=round_number * 400)
            time.sleep(0.15)
            victim = workers.pop(0)
            victim.send_signal(signal.SIGKILL)
            victim.wait()
            workers.append(start_worker(settings))
        assert wait_for_count(len(issued)) == len(issued)
        time.sleep(1.0)  # a late duplicate would show up here
        assert stored_ids() == issued
    finally:
        stop(workers)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class DurableRedis:
    """A private redis-server that fsyncs every write, as the click stream needs in production."""

    def __init__(self, directory: Path):
        self.directory = directory
        self.port = _free_port()
        self.process = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--dir",
                str(self.directory),
                "--appendonly",
                "yes",
                "--appendfsync",
                "always",
                "--save",
                "",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        client = redis_lib.Redis(port=self.port)
        for _ in range(100):
            try:
                client.ping()
                return
            except redis_lib.ConnectionError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"


@pytest.fixture
def durable_redis(tmp_path):
    require_service(shutil.which("redis-server") is not None, "redis-server binary not installed")
    server = DurableRedis(tmp_path / "redis")
    server.directory.mkdir()
    server.start()
    yield server
    if server.process.poll() is None:
        server.kill()


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_redis_killed_and_restarted_mid_run_loses_no_click(backend, tmp_path, durable_redis, request):
    database_url = (
        f"sqlite:///{tmp_path / 'handoff.db'}" if backend == "sqlite" else request.getfixturevalue("pg_schema_url")
    )
    app = _build(
        make_settings(
            database_url, tmp_path, redis_url=durable_redis.url, redis_prefix="durable:", worker_claim_idle_ms=300
        )
    )
    try:
        with app.app_context():
            settings = tracker().settings
            LinkFactory(code="redis-1")
            worker = start_worker(settings)
            try:
                issued = issued_ids(app, "redis-1", 300)
                durable_redis.kill()
                issued |= issued_ids(app, "redis-1", 300, offset=300)  # Redis is down: database
                durable_redis.start()
                time.sleep(1.2)  # the stream is tried again
                issued |= issued_ids(app, "redis-1", 300, offset=600)
                assert wait_for_count(len(issued)) == len(issued)
                time.sleep(1.0)
                assert stored_ids() == issued
            finally:
                stop([worker])
    finally:
        _teardown(app)
