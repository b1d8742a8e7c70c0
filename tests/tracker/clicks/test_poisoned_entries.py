"""One bad stream entry never stops click storage: it is parked with its reason and the rest are stored.

The entries here are written straight to the Redis stream in its wire format, as a click path without
the edge checks (or an older release) would have written them.
"""

from __future__ import annotations

import time

import pytest
from redis.exceptions import ConnectionError as RedisConnectionError
from sqlalchemy import func, select
from sqlalchemy.exc import DataError, DBAPIError, DisconnectionError, IntegrityError, OperationalError

from core.db import db
from core.worker import BackgroundWorker
from tests.factories import LinkFactory
from tests.tracker.helpers import click, click_count, make_worker
from tracker.clicks import stream as click_stream
from tracker.clicks.records import ClickRecord, new_click_id
from tracker.clicks.stream import failure_reason, is_transient
from tracker.program.models import Click
from tracker.services import tracker


def stream_key() -> str:
    return tracker().settings.click_stream_key


def dead_letters() -> list[tuple[bytes, dict]]:
    return tracker().redis.xrange(f"{stream_key()}:dead")


def click_some(app, code: str, count: int, first: int = 0) -> None:
    client = app.test_client()
    for index in range(first, first + count):
        click(client, code, address=f"198.51.100.{index}", sub1=f"good-{index}")


def poison(link, **fields) -> ClickRecord:
    """XADD a click the database will refuse, in exactly the format the click path writes."""
    now_ms = time.time_ns() // 1_000_000
    values = dict(
        id=new_click_id(now_ms),
        created_ms=now_ms,
        link_id=link.id,
        offer_id=link.offer_id,
        partner_id=link.partner_id,
        traffic="human",
        device="desktop",
        os="Windows",
        browser="Chrome",
        visitor_hash="a" * 32,
        visitor_hash_prev="b" * 32,
        ip_prefix="198.51.100.0/24",
    )
    record = ClickRecord(**{**values, **fields})
    tracker().redis.xadd(stream_key(), record.to_stream())
    return record


def stored_subs() -> list[str]:
    db.session.rollback()
    return sorted(db.session.scalars(select(Click.sub1)))


def test_nul_in_a_sub_id_is_parked_and_the_clicks_around_it_are_stored(stream_app):
    link = LinkFactory(code="poison-1")
    click_some(stream_app, "poison-1", 3)
    bad = poison(link, sub1="bad\x00sub")
    click_some(stream_app, "poison-1", 3, first=3)
    worker = make_worker()

    worker.run(burst=True)  # returns: the poisoned batch no longer raises out of the worker

    good = [f"good-{index}" for index in range(6)]
    if db.engine.dialect.name == "postgresql":
        assert stored_subs() == good
        [(_, parked)] = dead_letters()
        assert ClickRecord.from_stream(parked) == bad  # the whole entry is kept for an operator
        reason = parked[b"_error"].decode()
        assert reason.startswith("DataError: ") and "NUL" in reason
        assert "[SQL:" not in reason  # the driver's reason, not the statement with every parameter
        assert worker.parked == 1
    else:
        # SQLite stores NUL in text like any other character: nothing to refuse, nothing parked.
        assert stored_subs() == sorted([*good, "bad\x00sub"])
        assert dead_letters() == []
        assert worker.parked == 0
    assert worker.pending_count() == 0 and worker.redis.xlen(stream_key()) == 0

    # Still running: the same worker stores what comes next.
    click_some(stream_app, "poison-1", 2, first=6)
    worker.run(burst=True)
    assert [sub for sub in stored_subs() if sub.startswith("good-")] == [f"good-{index}" for index in range(8)]


@pytest.mark.parametrize("batch_size", [1, 3, 500])
def test_entry_the_database_refuses_is_parked_with_its_reason(stream_app, batch_size):
    link = LinkFactory(code="poison-2")
    click_some(stream_app, "poison-2", 2)
    bad = poison(link, link_id=link.id + 1000, sub1="no-such-link")  # a link that was never stored
    click_some(stream_app, "poison-2", 3, first=2)
    worker = make_worker(batch_size=batch_size)
    background = BackgroundWorker(worker, [])

    background.run(burst=True)

    assert stored_subs() == [f"good-{index}" for index in range(5)]
    [(_, parked)] = dead_letters()
    assert ClickRecord.from_stream(parked).id == bad.id
    reason = parked[b"_error"].decode()
    assert reason.startswith("IntegrityError: ") and "foreign key" in reason.lower()
    assert len(reason) <= 200
    assert worker.parked == 1 and worker.stored == 5
    assert background.report() == "stored 5 new clicks, parked 1 entries in the dead-letter stream"
    assert worker.pending_count() == 0 and worker.redis.xlen(stream_key()) == 0


def connection_lost() -> OperationalError:
    return OperationalError("INSERT INTO clicks ...", {}, Exception("server closed the connection unexpectedly"))


def test_lost_database_leaves_the_batch_pending_and_parks_nothing(stream_app, monkeypatch):
    LinkFactory(code="poison-3")
    click_some(stream_app, "poison-3", 4)

    def lost(*_args):
        raise connection_lost()

    monkeypatch.setattr(click_stream, "store_clicks", lost)
    doomed = make_worker(consumer="doomed")
    doomed.ensure_group()
    with pytest.raises(OperationalError):
        doomed.read_new()
    assert doomed.pending_count() == 4
    assert dead_letters() == [] and doomed.parked == 0
    monkeypatch.undo()

    make_worker(consumer="survivor", claim_idle_ms=1).run(burst=True)
    assert stored_subs() == [f"good-{index}" for index in range(4)]
    assert dead_letters() == []


def test_database_lost_while_retrying_one_by_one_leaves_everything_pending(stream_app, monkeypatch):
    link = LinkFactory(code="poison-4")
    click_some(stream_app, "poison-4", 4)
    real_store = click_stream.store_clicks
    calls = []

    def refuse_batch_then_lose_connection(session, records, *args):
        calls.append(len(records))
        if len(calls) == 1:
            raise IntegrityError("INSERT INTO clicks ...", {}, Exception("some row is refused"))
        if len(calls) == 3:
            raise connection_lost()
        return real_store(session, records, *args)

    monkeypatch.setattr(click_stream, "store_clicks", refuse_batch_then_lose_connection)
    doomed = make_worker(consumer="doomed")
    doomed.ensure_group()
    with pytest.raises(OperationalError):
        doomed.read_new()
    assert calls == [4, 1, 1]  # the batch, then one at a time until the connection went
    assert doomed.pending_count() == 4 and dead_letters() == [] and doomed.parked == 0
    assert click_count() == 1  # the entry stored alone before the loss stays; its replay adds nothing
    monkeypatch.undo()

    make_worker(consumer="survivor", claim_idle_ms=1).run(burst=True)
    assert stored_subs() == [f"good-{index}" for index in range(4)]
    assert db.session.scalar(select(func.count()).select_from(Click).where(Click.link_id == link.id)) == 4


@pytest.mark.parametrize(
    "exc, transient",
    [
        (connection_lost(), True),
        (DisconnectionError("pool connection is dead"), True),
        (DBAPIError("SELECT 1", {}, Exception("connection reset"), connection_invalidated=True), True),
        (RedisConnectionError("Redis is gone"), True),
        (DataError("INSERT ...", {}, Exception("NUL")), False),
        (IntegrityError("INSERT ...", {}, Exception("violates foreign key constraint")), False),
        (DBAPIError("INSERT ...", {}, Exception("cannot adapt type")), False),
        (RuntimeError("no free reference code for click 1"), False),
        (ValueError("bad value"), False),
    ],
)
def test_only_failures_of_the_database_or_redis_themselves_are_transient(exc, transient):
    assert is_transient(exc) is transient


def test_failure_reason_names_the_class_and_the_drivers_message_truncated():
    exc = DataError("INSERT INTO clicks VALUES (...)", {"sub1": "x"}, ValueError("refused " + "z" * 500))
    reason = failure_reason(exc)
    assert reason.startswith("DataError: refused zzz") and len(reason) == 200
    assert failure_reason(KeyError("stream entry has no click")) == "KeyError: 'stream entry has no click'"
