"""Shared helpers for tracker tests: clicking like a browser, and running the stream worker in-process."""

from __future__ import annotations

from sqlalchemy import func, select

from core.db import db
from tracker.clicks.stream import ClickStreamWorker
from tracker.program.models import Click
from tracker.services import tracker

CHROME = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36"
)
FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"


def click(client, code: str, address: str = "198.51.100.7", user_agent: str = CHROME, **query):
    response = client.get(
        f"/c/{code}", query_string=query, headers={"User-Agent": user_agent}, environ_base={"REMOTE_ADDR": address}
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    return response


def make_worker(consumer: str = "test-worker", **options) -> ClickStreamWorker:
    services = tracker()
    settings = services.settings
    options.setdefault("block_ms", 10)
    options.setdefault("claim_idle_ms", settings.worker_claim_idle_ms)
    return ClickStreamWorker(
        services.redis,
        settings.click_stream_key,
        settings.redis_prefix,
        services.refcode_key,
        consumer=consumer,
        **options,
    )


def drain() -> int:
    return make_worker().run(burst=True)


def click_count() -> int:
    db.session.rollback()  # see rows other connections committed
    return db.session.scalar(select(func.count()).select_from(Click))
