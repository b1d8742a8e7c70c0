"""The commission ledger through the API: the issue's plan, hold and approval, reversals, clawbacks, adjustments."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from core.db import db
from core.worker import BackgroundWorker
from payouts.ledger.entries import LedgerError, adjust, approve_due
from payouts.ledger.models import LedgerEntry
from tests.factories import LinkFactory, OfferFactory, auth, expect, post_conversion
from tests.payouts.ledger_helpers import HOLD, ISSUE_PLAN, T0, Program, running_program
from tests.tracker.attribution.test_conversions import token_from
from tests.tracker.helpers import click


@pytest.fixture
def program(app):
    yield from running_program(app)


def test_the_issue_plan_prices_every_case_through_the_api(program):
    stored = program.client.get(f"/api/v1/offers/{program.offer.id}/commission-plan", headers=program.vendor)
    assert stored.json["plan"] == ISSUE_PLAN and stored.json["updated_by"].startswith("admin key #")
    program.convert("L-1", event="lead")
    program.convert("S-1", amount="1000.00")
    program.convert("G-1", amount="1000.00", coupon="GOLD")
    program.convert("P-1", amount="1000000.00", coupon="PLAIN")  # reaches the step: still 8%
    program.convert("P-2", amount="1000.00", coupon="PLAIN")  # after 1,000,000 this month: 12%
    assert program.owed(program.reseller) == [("50.00", "pending"), ("80.00", "pending")]
    assert program.owed(program.gold) == [("100.00", "pending")]
    assert program.owed(program.plain) == [("80000.00", "pending"), ("120.00", "pending")]
    # The distributor's 1% of its reseller's sale; a lead has no sale to take a share of.
    [override] = program.commissions(partner_id=program.distributor.id)
    assert (override["amount"], override["role"], override["event"]) == ("10.00", "parent", "sale")
    assert "12% of RUB1,000.00" in program.commissions(partner_id=program.plain.id)[0]["rule"]
    assert program.balance(program.plain)["pending"] == "80120.00"


def test_a_lead_cap_stops_paying_and_a_rejected_lead_frees_its_place(program):
    capped = {"currency": "RUB", "events": {"lead": {"flat": "50.00", "cap": {"period": "month", "count": 2}}}}
    expect(program.set_plan(capped), 200)
    first = program.convert("L-1", event="lead")
    program.convert("L-2", event="lead")
    program.convert("L-3", event="lead")
    assert program.owed(program.reseller) == [("50.00", "pending"), ("50.00", "pending"), ("0.00", "pending")]
    assert "count cap reached" in program.commissions(partner_id=program.reseller.id)[0]["rule"]
    program.decide(first, "reject")
    program.convert("L-4", event="lead")
    assert program.owed(program.reseller)[-1] == ("50.00", "pending")
    with time_machine.travel(T0 + timedelta(days=31), tick=False):  # July: a new period, a new cap
        program.convert("L-5", event="lead")
    assert program.owed(program.reseller)[-1] == ("50.00", "pending")


def test_without_a_plan_or_a_partner_nothing_accrues(app):
    program = Program(app)
    program.convert("S-1", amount="100.00")
    expect(program.set_plan(ISSUE_PLAN), 200)
    program.convert("S-2", amount="100.00", coupon=None)  # unattributed
    assert db.session.scalar(select(func.count()).select_from(LedgerEntry)) == 0


def test_a_conversion_the_plan_cannot_price_leaves_a_visible_zero_line(program):
    response = post_conversion(
        program.client,
        program.vendor,
        offer="suite",
        event="sale",
        order_id="E-1",
        amount="10.00",
        currency="EUR",
        coupon="RES",
    )
    assert response.status_code == 201
    [line] = program.commissions(partner_id=program.reseller.id)
    assert line["amount"] == "0.00" and "not priced" in line["rule"] and "EUR" in line["rule"]


def test_commissions_wait_for_the_hold_period_and_approve_once(program):
    program.convert("S-1", amount="1000.00")
    [line] = program.commissions(partner_id=program.reseller.id)
    assert line["approves_on"] == "2031-07-10"
    with time_machine.travel(T0 + HOLD - timedelta(minutes=1), tick=False):
        assert program.approve_due() == "approved 0 commissions"
    with time_machine.travel(T0 + HOLD, tick=False):
        assert program.approve_due() == "approved 2 commissions"  # the reseller's and the override
        assert program.approve_due() == "approved 0 commissions"
    assert program.owed(program.reseller) == [("80.00", "approved")]
    assert program.balance(program.reseller) == {
        "pending": "0.00",
        "approved": "80.00",
        "paid": "0.00",
        "clawback": "0.00",
        "payable": "80.00",
    }
    assert program.balance(program.distributor)["approved"] == "10.00"


def test_an_advertisers_approval_does_not_skip_the_hold_and_review_holds_approval(program):
    approved = program.convert("S-1", amount="1000.00")
    program.decide(approved, "approve")
    LinkFactory(code="plain-1", partner=program.plain, offer=program.offer)
    # Clicked and converted within seconds: held for review.
    token = token_from(click(program.client, "plain-1"))
    held = program.convert("T-1", amount="1000.00", coupon=None, token=token)
    assert program.commissions(partner_id=program.plain.id)[0]["conversion_status"] == "review"
    with time_machine.travel(T0 + timedelta(days=1), tick=False):
        assert approve_due() == 0
    with time_machine.travel(T0 + HOLD, tick=False):
        assert approve_due() == 2
        assert program.owed(program.plain) == [("80.00", "pending")]
        program.decide(held, "approve")
        assert approve_due() == 1
    assert program.owed(program.plain) == [("80.00", "approved")]


def test_the_worker_approves_due_commissions(program):
    program.convert("S-1", amount="1000.00")
    with time_machine.travel(T0 + HOLD, tick=False):
        worker = BackgroundWorker.for_app()
        worker.step()
        assert worker.summary["approvals"] == 2
        program.convert("S-2", amount="1000.00", occurred_at="2031-06-10T09:00:00Z")
        worker.step()  # the next round waits a minute
        assert worker.summary["approvals"] == 2


def test_two_approval_runs_at_once_approve_each_commission_once(program):
    for number in range(5):
        program.convert(f"S-{number}", amount="1000.00")
    approved, barrier = [], threading.Barrier(4)

    def run():
        with program.client.application.app_context():
            barrier.wait()
            approved.append(approve_due(T0 + HOLD))

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    db.session.rollback()
    assert sum(approved) == 10
    assert db.session.scalar(select(func.count()).where(LedgerEntry.kind == "approved")) == 10


def test_the_database_refuses_a_second_approval_of_one_accrual(program):
    program.convert("S-1", amount="1000.00")
    accrual = db.session.scalar(select(LedgerEntry).where(LedgerEntry.role == "partner"))
    approve_due(T0 + HOLD)
    db.session.add(
        LedgerEntry(
            partner_id=accrual.partner_id,
            conversion_id=accrual.conversion_id,
            kind="approved",
            settles_id=accrual.id,
            amount_minor=accrual.amount_minor,
            currency="RUB",
            actor="test",
        )
    )
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()


def ledger_rows():
    db.session.expire_all()
    return [
        (e.id, e.kind, e.amount_minor, e.settles_id)
        for e in db.session.scalars(select(LedgerEntry).order_by(LedgerEntry.id))
    ]


def test_rejection_before_approval_reverses_and_nothing_is_approved_later(program):
    sale = program.convert("S-1", amount="1000.00")
    before = ledger_rows()
    program.decide(sale, "reject")
    after = ledger_rows()
    assert after[: len(before)] == before  # append-only: the accruals are untouched
    assert [(kind, amount) for _, kind, amount, _ in after[len(before) :]] == [("reversed", -8000), ("reversed", -1000)]
    assert program.owed(program.reseller) == [("80.00", "reversed")]
    assert program.commissions(partner_id=program.reseller.id)[0]["approves_on"] is None
    with time_machine.travel(T0 + HOLD, tick=False):
        assert approve_due() == 0
    assert program.balance(program.reseller)["pending"] == "0.00"
    assert program.commissions(status="reversed", partner_id=program.distributor.id)[0]["amount"] == "10.00"


def test_reversal_after_approval_cancels_the_approved_commission(program):
    sale = program.convert("S-1", amount="1000.00")
    with time_machine.travel(T0 + HOLD, tick=False):
        approve_due()
        program.decide(sale, "approve")
        program.decide(sale, "reverse")
    assert program.owed(program.reseller) == [("80.00", "reversed")]
    assert program.balance(program.reseller) == {
        "pending": "0.00",
        "approved": "0.00",
        "paid": "0.00",
        "clawback": "0.00",
        "payable": "0.00",
    }


RU_PERSON = {
    "kind": "individual",
    "country": "RU",
    "tax_resident": True,
    "tax_id": "5001 0073 2259",
    "regime_code": "ru_individual",
    "pays": "gross",
}


def test_reversal_after_payment_is_clawed_back_in_the_next_payout(program):
    sale = program.convert("S-1", amount="1000.00")
    profile = program.client.put(
        f"/api/v1/partners/{program.reseller.id}/tax-profile", json=RU_PERSON, headers=program.finance
    )
    expect(profile, 201)
    with time_machine.travel(T0 + HOLD, tick=False):
        approve_due()
        # Paid by a real batch: the reseller's line is payable, its distributor (no tax profile) is held.
        batch = expect(
            program.client.post(
                "/api/v1/payout-batches",
                headers=program.finance,
                json={"period_end": "2031-07-31", "currency": "RUB", "payout_date": "2031-08-05"},
            ),
            201,
        )
        assert {line["partner_id"]: line["status"] for line in batch["lines"]} == {
            program.reseller.id: "payable",
            program.distributor.id: "held",
        }
        url = f"/api/v1/payout-batches/{batch['id']}"
        assert (
            expect(program.client.post(f"{url}/approve", json={}, headers=program.finance), 200)["state"] == "approved"
        )
        assert expect(program.client.post(f"{url}/mark-paid", json={}, headers=program.finance), 200)["state"] == "paid"
    paid = db.session.scalar(select(LedgerEntry).where(LedgerEntry.kind == "paid"))
    assert (paid.partner_id, paid.amount_minor, paid.payout_batch_id) == (program.reseller.id, 8000, batch["id"])
    assert program.owed(program.reseller) == [("80.00", "paid")]
    program.decide(sale, "approve")
    program.decide(sale, "reverse")
    assert program.owed(program.reseller) == [("80.00", "clawed_back")]
    assert program.balance(program.reseller) == {
        "pending": "0.00",
        "approved": "0.00",
        "paid": "80.00",
        "clawback": "-80.00",
        "payable": "-80.00",
    }
    # The distributor's override was approved but not paid: simply reversed.
    assert program.owed(program.distributor) == [("10.00", "reversed")]
    adjusted = program.client.post(
        "/api/v1/adjustments",
        headers=program.finance,
        json={"partner_id": program.reseller.id, "amount": "100.00", "currency": "RUB", "reason": "contest prize"},
    )
    assert adjusted.status_code == 201
    assert program.balance(program.reseller)["payable"] == "20.00"


def test_adjustments_need_a_reason_and_keep_who_made_them(program):
    def post(headers, **body):
        return program.client.post(
            "/api/v1/adjustments",
            headers=headers,
            json={"partner_id": program.plain.id, "amount": "-120.50", "currency": "RUB", **body},
        )

    made = post(program.finance, reason="  duplicate lead paid twice  ")
    assert made.status_code == 201, made.json
    assert (made.json["amount"], made.json["reason"]) == ("-120.50", "duplicate lead paid twice")
    assert made.json["actor"].startswith("finance key #")
    assert program.balance(program.plain)["approved"] == "-120.50"
    for body, reason in [
        ({}, "reason"),
        ({"reason": "   "}, "reason"),
        ({"reason": "x", "amount": "0"}, "non-zero"),
        ({"reason": "x", "amount": "1.001"}, "2 decimal places"),
        ({"reason": "x", "amount": "ten"}, "amount"),
        ({"reason": "x", "currency": "XAU"}, "currency"),
        ({"reason": "x", "partner_id": 999_999}, "does not exist"),
    ]:
        refused = post(program.admin, **body)
        assert refused.status_code == 422 and reason in str(refused.json), (body, refused.json)
    assert post(program.vendor, reason="x").status_code == 403
    assert post(auth("partner", partner_id=program.plain.id), reason="x").status_code == 403
    with pytest.raises(LedgerError, match="reason"):
        adjust(program.plain.id, 100, "RUB", "", "admin key #1")


def test_a_partner_sees_only_its_own_commissions_and_balance(program):
    program.convert("S-1", amount="1000.00")
    program.convert("G-1", amount="1000.00", coupon="GOLD")
    reseller = auth("partner", partner_id=program.reseller.id)
    distributor = auth("partner", partner_id=program.distributor.id)
    assert [c["partner_id"] for c in program.commissions(reseller)] == [program.reseller.id]
    assert [c["role"] for c in program.commissions(distributor)] == ["parent"]
    own = program.client.get("/api/v1/balances", headers=reseller).json["items"]
    assert [(b["partner_id"], b["pending"]) for b in own] == [(program.reseller.id, "80.00")]
    for path in ("/api/v1/commissions", "/api/v1/balances"):
        assert (
            program.client.get(path, query_string={"partner_id": program.gold.id}, headers=reseller).status_code == 403
        )
        assert program.client.get(path, headers=program.vendor).status_code == 403
    everyone = program.client.get("/api/v1/balances", headers=program.finance).json["items"]
    assert {b["partner_id"] for b in everyone} == {program.reseller.id, program.distributor.id, program.gold.id}


@pytest.mark.parametrize(
    "plan, reason",
    [
        ({"currency": "RUB", "events": {"sale": {"percent": 8}}}, "events.sale.percent"),
        ({"currency": "RUB", "events": {"sale": {"percent": "8", "bonus": "1"}}}, "'bonus'"),
        ({"currency": "RUB", "events": {}}, "needs at least one event rule"),
        ({"currency": "RUBLE", "events": {"lead": {"flat": "50"}}}, "currency"),
        ({"currency": "RUB", "events": {"lead": {"flat": "50.001"}}}, "2 decimal places"),
    ],
)
def test_a_bad_plan_is_refused_with_the_field_and_reason(program, plan, reason):
    refused = program.set_plan(plan)
    assert refused.status_code == 422 and reason in refused.json["error"], refused.json
    stored = program.client.get(f"/api/v1/offers/{program.offer.id}/commission-plan", headers=program.admin)
    assert stored.json["plan"] == ISSUE_PLAN


def test_who_may_read_and_set_a_plan(program):
    other = OfferFactory()
    path = f"/api/v1/offers/{other.id}/commission-plan"
    assert program.client.get(path, headers=program.admin).status_code == 404  # no plan yet
    assert program.set_plan(ISSUE_PLAN, headers=program.vendor).status_code == 200  # its own offer
    assert program.client.put(path, json={"plan": ISSUE_PLAN}, headers=program.vendor).status_code == 404
    partner = auth("partner", partner_id=program.plain.id)
    assert program.set_plan(ISSUE_PLAN, headers=partner).status_code == 403
    assert program.set_plan(ISSUE_PLAN, headers=program.finance).status_code == 403
    assert program.client.put(path, json=ISSUE_PLAN, headers=program.admin).status_code == 422  # not wrapped
    assert (
        program.client.get("/api/v1/commissions", query_string={"status": "lost"}, headers=program.admin).status_code
        == 422
    )
    described = program.client.get("/api/v1/openapi.json").json["paths"]
    assert {"/api/v1/commissions", "/api/v1/balances", "/api/v1/adjustments"} <= set(described)
