"""A reversal racing mark-paid on PostgreSQL: every paid, reversed commission is clawed back exactly once.

Each round builds and approves a batch paying one sale of a fresh reseller (and its distributor's
override), then a thread reverses the sale while another marks the batch paid, each in its own app
context and connection. Without the partner locks (payouts/ledger/locks.py) both sides could read
"not paid" / "not reversed", and the ledger kept a commission reversed and paid with nothing owed back.
"""

from __future__ import annotations

import threading
from contextlib import nullcontext

import pytest
import time_machine
from sqlalchemy import func, select
from sqlalchemy.orm import aliased

from core.db import db
from payouts.batches.lifecycle import approve_batch, create_batch, mark_paid
from payouts.batches.models import PayoutBatch, PayoutLine
from payouts.ledger.models import LedgerEntry
from payouts.ledger.payments import is_paid
from payouts.ledger.queries import balances
from tests.factories import PartnerFactory
from tests.payouts.batches.test_batches import JULY, PAYDAY, give_profile
from tests.payouts.ledger_helpers import HOLD, T0, running_program
from tracker.attribution.conversions import change_status
from tracker.attribution.models import Conversion, Coupon
from tracker.attribution.signals import conversion_status_changed

ROUNDS = 12


@pytest.fixture
def program(app):
    yield from running_program(app)


def paid_batch_of_one_sale(program, number: int) -> tuple[int, int, list[int]]:
    """A fresh distributor and reseller, the reseller's approved sale, and an approved batch paying both."""
    distributor = PartnerFactory(kind="distributor")
    reseller = PartnerFactory(kind="reseller", parent_id=distributor.id)
    db.session.add(Coupon(code=f"RACE{number}", partner_id=reseller.id, offer_id=program.offer.id))
    db.session.commit()
    give_profile(distributor)
    give_profile(reseller)
    conversion = program.convert(f"RACE-{number}", amount="1000.00", coupon=f"RACE{number}")
    program.decide(conversion, "approve")
    with time_machine.travel(T0 + HOLD, tick=False):
        program.approve_due()
    batch = approve_batch(create_batch(JULY, "RUB", PAYDAY, 0, "test"))
    return conversion, batch.id, [reseller.id, distributor.id]


def race(program, conversion: int, batch_id: int, reversal_holds_locks: bool) -> None:
    """Reverse and mark paid at once, each in its own app context (its own session and connection).

    With ``reversal_holds_locks`` the reversal, its ledger rows written, waits for mark-paid to start
    before it commits: mark-paid then runs against a reversal not yet committed, the order the free race
    seldom produces (the reversal does more before its lock than mark-paid does).
    """
    app, barrier, failures = program.client.application, threading.Barrier(2), []
    reversal_settled, paying = threading.Event(), threading.Event()

    def hold(_conversion, **_):
        reversal_settled.set()
        paying.wait()

    def reverse() -> None:
        with app.app_context():
            reversing = db.session.get(Conversion, conversion)
            barrier.wait()
            try:
                change_status(reversing, "reverse", "advertiser", "chargeback")
            except Exception as error:  # the assertion below names it
                failures.append(("reverse", repr(error)))
            finally:
                reversal_settled.set()
                db.session.remove()

    def pay() -> None:
        with app.app_context():
            batch = db.session.get(PayoutBatch, batch_id)
            barrier.wait()
            if reversal_holds_locks:
                reversal_settled.wait()
            paying.set()
            try:
                mark_paid(batch)
            except Exception as error:  # the assertion below names it
                failures.append(("mark_paid", repr(error)))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=reverse), threading.Thread(target=pay)]
    # Connected after the ledger's receiver, so it runs once the reversal holds the partner locks.
    with conversion_status_changed.connected_to(hold) if reversal_holds_locks else nullcontext():
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert failures == []


def settlement_steps() -> dict[int, list[str]]:
    """Each accrual's settling steps, by accrual id, with 'paid' for an accrual its payout line paid."""
    accrual, step = LedgerEntry, aliased(LedgerEntry)
    rows = db.session.execute(
        select(accrual.id, step.kind, is_paid(accrual))
        .outerjoin(step, step.settles_id == accrual.id)
        .where(accrual.kind == "accrued")
    )
    steps: dict[int, list[str]] = {}
    for accrual_id, kind, paid in rows:
        steps.setdefault(accrual_id, ["paid"] if paid else []).extend([kind] if kind else [])
    return {accrual_id: sorted(kinds) for accrual_id, kinds in steps.items()}


def assert_ledger_consistent(partner_ids: list[int]) -> str:
    """The round's commissions and the partners' balances agree with the batch; returns which side committed first."""
    db.session.rollback()
    accruals = db.session.scalars(
        select(LedgerEntry).where(LedgerEntry.partner_id.in_(partner_ids), LedgerEntry.kind == "accrued")
    ).all()
    steps = settlement_steps()
    assert len(accruals) == 2
    for accrual in accruals:
        kinds = sorted(steps[accrual.id])
        assert db.session.get(Conversion, accrual.conversion_id).status == "reversed"
        # Paid by the batch, and owed back exactly once: either the reversal found it paid (no 'reversed'
        # row), or it came first and mark-paid claws it back beside its 'reversed' row.
        assert kinds in (["approved", "clawed_back", "paid"], ["approved", "clawed_back", "paid", "reversed"]), kinds
    for accrual in accruals:
        [balance] = balances(accrual.partner_id)
        line_total = db.session.scalar(
            select(PayoutLine.amount_minor).where(
                PayoutLine.partner_id == accrual.partner_id, PayoutLine.status == "payable"
            )
        )
        # Paid what the batch approved, all of it owed back, nothing else open: SQL sums over the rows.
        assert line_total == accrual.amount_minor > 0
        assert (balance.paid_minor, balance.clawback_minor) == (line_total, -line_total)
        assert (balance.pending_minor, balance.approved_minor, balance.payable_minor) == (0, 0, -line_total)
    for kinds in steps.values():  # every commission of every round so far
        assert "paid" not in kinds or "reversed" not in kinds or kinds.count("clawed_back") == 1, kinds
    # Both commissions of the sale were settled by one transaction of each side, so in one order.
    assert len({"reversed" in steps[accrual.id] for accrual in accruals}) == 1
    return "reversal" if "reversed" in steps[accruals[0].id] else "mark-paid"


@pytest.mark.parametrize("app", ["postgresql"], indirect=True)  # SQLite has one writer: no race to test
def test_a_reversal_racing_mark_paid_is_clawed_back_exactly_once(program):
    for number in range(ROUNDS):
        conversion, batch_id, partner_ids = paid_batch_of_one_sale(program, number)
        held = number % 2 == 1
        race(program, conversion, batch_id, reversal_holds_locks=held)
        first = assert_ledger_consistent(partner_ids)
        assert first == "reversal" or not held
    assert db.session.scalar(select(func.count()).where(PayoutBatch.state != "paid")) == 0
