"""Commission plans and postback endpoints are kept per worker while the version in Redis stands
(core.config_cache): a plan or endpoint saved by any worker is used from the next conversion on."""

from __future__ import annotations

import socket

import pytest
import time_machine
from sqlalchemy import event

from app import create_app
from core.db import db
from payouts.commissions.models import CommissionPlan
from tests.factories import auth, expect
from tests.payouts.ledger_helpers import ISSUE_PLAN, T0, Program

TEMPLATE = "https://partner.example/pb?o={order_id}&com={commission}"


@pytest.fixture
def public_dns(monkeypatch):
    """partner.example resolves to a public address (no network is used); every other name, Redis's
    included, resolves as usual."""
    public = (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.215.14", 443))
    resolve = socket.getaddrinfo

    def fake(host, *args, **kwargs):
        return [public] if host == "partner.example" else resolve(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", fake)


def tables_read(app, work) -> list[str]:
    """The tables named in the FROM of each SELECT that ``work`` sends."""
    seen: list[str] = []

    def note(conn, cursor, statement, parameters, context, executemany):
        words = " ".join(statement.split())
        if words.startswith("SELECT") and " FROM " in words:
            seen.append(words.split(" FROM ", 1)[1].split()[0].strip('"'))

    event.listen(db.engine, "before_cursor_execute", note)
    try:
        work()
    finally:
        event.remove(db.engine, "before_cursor_execute", note)
    return seen


def test_a_plan_saved_by_another_worker_prices_the_next_conversion(stream_app):
    with time_machine.travel(T0, tick=False):
        program = Program(stream_app)
        program.convert("S-1", amount="1000.00")  # no plan yet, and that is now kept
        # Another worker process: its own app and session, the same database and Redis.
        other = create_app(stream_app.extensions["handoff.settings"])
        with other.app_context():
            db.session.add(CommissionPlan(offer_id=program.offer.id, plan=ISSUE_PLAN, updated_by="admin"))
            db.session.commit()
            db.session.remove()
            db.engine.dispose()
        program.convert("S-2", amount="1000.00")
        assert program.owed(program.reseller) == [("80.00", "pending")]


def test_while_nothing_changes_the_plan_and_the_active_endpoint_are_not_looked_up_again(stream_app, public_dns):
    with time_machine.travel(T0, tick=False):
        program = Program(stream_app)
        expect(program.set_plan(ISSUE_PLAN), 200)
        partner_key = auth("partner", partner_id=program.reseller.id)
        expect(program.client.put("/api/v1/postback", json={"url_template": TEMPLATE}, headers=partner_key), 200)
        first = tables_read(stream_app, lambda: program.convert("R-1", amount="1000.00"))
        again = tables_read(stream_app, lambda: program.convert("R-2", amount="1000.00"))
    assert "commission_plans" in first and "commission_plans" not in again
    # Which endpoint is active is kept; the endpoint itself is still loaded, by its id, to render the URL.
    assert (first.count("postback_endpoints"), again.count("postback_endpoints")) == (2, 1)
    deliveries = expect(program.client.get("/api/v1/postback/deliveries", headers=partner_key), 200)["items"]
    assert sorted(d["url"].rsplit("com=", 1)[1] for d in deliveries) == ["80.00", "80.00"]


def test_an_endpoint_set_after_conversions_gets_the_next_one(stream_app, public_dns):
    with time_machine.travel(T0, tick=False):
        program = Program(stream_app)
        program.convert("E-1")  # the reseller has no endpoint yet, and that is now kept
        partner_key = auth("partner", partner_id=program.reseller.id)
        expect(program.client.put("/api/v1/postback", json={"url_template": TEMPLATE}, headers=partner_key), 200)
        second = program.convert("E-2")
    deliveries = expect(program.client.get("/api/v1/postback/deliveries", headers=partner_key), 200)["items"]
    assert [d["conversion_id"] for d in deliveries] == [second]


def test_without_redis_every_conversion_reads_the_plan(app):
    with time_machine.travel(T0, tick=False):
        program = Program(app)
        expect(program.set_plan(ISSUE_PLAN), 200)
        reads = [tables_read(app, lambda n=n: program.convert(f"N-{n}", amount="10.00")) for n in range(2)]
    assert all("commission_plans" in tables for tables in reads)
