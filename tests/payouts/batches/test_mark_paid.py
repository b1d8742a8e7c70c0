"""Marking a batch paid: one 'paid' row per line, items paid through their batch, retries, and old per-item rows."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from core.db import db, utcnow
from payouts.batches.lifecycle import approve_batch, create_batch, mark_paid
from payouts.batches.models import PayoutBatch, PayoutItem
from payouts.ledger.entries import adjust
from payouts.ledger.models import LedgerEntry
from tests.payouts.batches.test_batches import JULY, PAYDAY, approve_all, by_partner, give_profile
from tests.payouts.ledger_helpers import running_program


@pytest.fixture
def program(app):
    yield from running_program(app)


def paid_rows() -> list[tuple[int, int, int | None, int]]:
    """(partner, amount, settles, batch) of every 'paid' row, in the order written."""
    rows = db.session.execute(
        select(LedgerEntry.partner_id, LedgerEntry.amount_minor, LedgerEntry.settles_id, LedgerEntry.payout_batch_id)
        .where(LedgerEntry.kind == "paid")
        .order_by(LedgerEntry.id)
    )
    return [tuple(row) for row in rows]


def clawbacks() -> int:
    return db.session.scalar(select(func.count()).where(LedgerEntry.kind == "clawed_back"))


def two_partners_one_held(program) -> PayoutBatch:
    """PLAIN paid two sales (800.00 + 400.00) and a bonus; the reseller has no tax profile, so it is held."""
    give_profile(program.plain)
    program.convert("P-1", amount="10000.00", coupon="PLAIN")
    program.convert("P-2", amount="5000.00", coupon="PLAIN")
    program.convert("R-1", amount="1000.00")
    adjust(program.plain.id, 5000, "RUB", "launch bonus", "finance")
    approve_all(program)
    return approve_batch(create_batch(JULY, "RUB", PAYDAY, 0, "test"))


def test_a_line_is_paid_with_one_row_and_its_items_read_paid(program):
    batch = two_partners_one_held(program)
    assert by_partner(batch)[program.reseller.id].status == "held"
    assert mark_paid(batch) == 1
    assert paid_rows() == [(program.plain.id, 125000, None, batch.id)]
    assert program.owed(program.plain) == [("800.00", "paid"), ("400.00", "paid")]
    assert program.owed(program.reseller) == [("80.00", "approved")]  # held: carried over, not paid
    balance = program.balance(program.plain)
    assert (balance["paid"], balance["approved"], balance["payable"]) == ("1250.00", "0.00", "0.00")
    assert program.balance(program.reseller)["payable"] == "80.00"


def test_marking_a_paid_batch_paid_again_appends_nothing(program):
    batch = two_partners_one_held(program)
    first_sale = db.session.scalar(
        select(LedgerEntry.conversion_id)
        .where(LedgerEntry.partner_id == program.plain.id, LedgerEntry.kind == "accrued")
        .order_by(LedgerEntry.id)
        .limit(1)
    )
    assert mark_paid(batch) == 1
    before = (paid_rows(), program.balance(program.plain))
    assert mark_paid(batch) == 0  # a retry after a lost response
    assert mark_paid(db.session.get(PayoutBatch, batch.id), "api") == 0
    assert (paid_rows(), program.balance(program.plain)) == before
    assert db.session.get(PayoutBatch, batch.id).state == "paid"
    # A reversal after the payment is owed back once, and a further retry adds no second clawback.
    program.decide(first_sale, "approve")
    program.decide(first_sale, "reverse")
    assert mark_paid(batch) == 0
    assert clawbacks() == 1
    assert program.balance(program.plain)["clawback"] == "-800.00"


def test_the_database_refuses_a_second_payment_of_one_line(program):
    batch = two_partners_one_held(program)
    mark_paid(batch)
    again = LedgerEntry(
        partner_id=program.plain.id,
        kind="paid",
        amount_minor=125000,
        currency="RUB",
        payout_batch_id=batch.id,
        actor="test",
        reason="twice",
    )
    db.session.add(again)
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()


def test_per_item_paid_rows_written_before_line_payments_still_count(program):
    # A batch paid by the earlier code: a 'paid' row settling each item, which revision 0011 keeps.
    batch = two_partners_one_held(program)
    items = db.session.scalars(
        select(LedgerEntry).join(PayoutItem, PayoutItem.ledger_entry_id == LedgerEntry.id).order_by(LedgerEntry.id)
    ).all()
    for item in items:
        db.session.add(
            LedgerEntry(
                partner_id=item.partner_id,
                offer_id=item.offer_id,
                conversion_id=item.conversion_id,
                kind="paid",
                settles_id=item.id,
                amount_minor=item.amount_minor,
                currency=item.currency,
                payout_batch_id=batch.id,
                actor="payouts",
                reason=f"payout batch {batch.id}",
            )
        )
    batch.state, batch.paid_at = "paid", utcnow()
    db.session.commit()
    assert program.owed(program.plain) == [("800.00", "paid"), ("400.00", "paid")]
    assert program.balance(program.plain)["paid"] == "1250.00"
    assert mark_paid(batch) == 0 and len(paid_rows()) == 3
    program.decide(items[0].conversion_id, "approve")
    program.decide(items[0].conversion_id, "reverse")
    assert clawbacks() == 1 and program.owed(program.plain) == [("800.00", "clawed_back"), ("400.00", "paid")]
    # The next batch nets the clawback against new money and pays none of the old items again.
    adjust(program.plain.id, 100000, "RUB", "quarterly bonus", "finance")
    second = approve_batch(create_batch(JULY, "RUB", PAYDAY, 0, "test"))
    assert by_partner(second)[program.plain.id].amount_minor == 20000
    assert mark_paid(second) == 1
    balance = program.balance(program.plain)
    assert (balance["paid"], balance["clawback"], balance["payable"]) == ("1450.00", "0.00", "0.00")


@pytest.mark.parametrize("app", ["postgresql"], indirect=True)  # SQLite has one writer: no race to test
def test_two_mark_paids_of_one_batch_at_once_pay_each_line_once(program):
    batch_id = two_partners_one_held(program).id
    app, barrier, outcomes = program.client.application, threading.Barrier(2), []

    def pay() -> None:
        with app.app_context():
            batch = db.session.get(PayoutBatch, batch_id)
            barrier.wait()
            try:
                outcomes.append(mark_paid(batch))
            except Exception as error:  # the assertion below names it
                outcomes.append(repr(error))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=pay) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    db.session.rollback()
    assert sorted(outcomes, key=str) == [0, 1]
    assert paid_rows() == [(program.plain.id, 125000, None, batch_id)]
