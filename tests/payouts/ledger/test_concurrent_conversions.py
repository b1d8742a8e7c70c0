"""Many conversions of one partner at once on PostgreSQL: every one is stored with its commission.

Each conversion's transaction inserts the conversion (a key-share lock on its partner through the
foreign key), binds the lead's customer and then locks the partner row for the caps; two such
transactions once deadlocked on that upgrade and one of them answered 500 with its conversion lost.
"""

from __future__ import annotations

import threading
from collections import Counter

import pytest
from sqlalchemy import func, select

from core.db import db
from payouts.ledger.models import LedgerEntry
from tests.factories import post_conversion
from tests.payouts.ledger_helpers import running_program
from tracker.attribution.models import Conversion, CustomerBinding

CONVERSIONS = 60


@pytest.fixture
def program(app):
    yield from running_program(app)


@pytest.mark.parametrize("app", ["postgresql"], indirect=True)  # SQLite has one writer: no race to test
def test_concurrent_conversions_of_one_partner_are_all_stored_with_their_commissions(program):
    app = program.client.application
    barrier = threading.Barrier(CONVERSIONS)
    answers: dict[int, tuple[int, dict]] = {}

    def send(number: int) -> None:
        with app.app_context():
            client = app.test_client()
            # Leads and sales, every lead of one company: they race for the partner row (caps, volume
            # steps) and for the company's customer binding.
            event = "lead" if number % 2 else "sale"
            body = {"amount": "1000.00", "currency": "RUB"} if event == "sale" else {}
            barrier.wait()
            response = post_conversion(
                client,
                program.vendor,
                offer="suite",
                event=event,
                order_id=f"C-{number}",
                coupon="PLAIN",
                customer={"email": f"buyer{number}@acme-industrial.example"},
                **body,
            )
            answers[number] = (response.status_code, response.get_json(silent=True))
            db.session.remove()

    threads = [threading.Thread(target=send, args=(number,)) for number in range(CONVERSIONS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    db.session.rollback()

    assert Counter(status for status, _ in answers.values()) == {201: CONVERSIONS}
    stored = dict(db.session.execute(select(Conversion.order_id, Conversion.id)).all())
    assert stored == {f"C-{number}": body["id"] for number, (_, body) in answers.items()}
    accruals = db.session.execute(
        select(LedgerEntry.conversion_id, LedgerEntry.amount_minor).where(
            LedgerEntry.kind == "accrued", LedgerEntry.partner_id == program.plain.id
        )
    ).all()
    expected = {stored[f"C-{n}"]: 5000 if n % 2 else 8000 for n in range(CONVERSIONS)}  # 50.00 a lead, 8% a sale
    assert dict(accruals) == expected and len(accruals) == CONVERSIONS
    # One binding of the company's domain, and one per buyer's email, all to the partner.
    bindings = db.session.scalars(select(CustomerBinding.partner_id)).all()
    assert len(bindings) == CONVERSIONS // 2 + 1 and set(bindings) == {program.plain.id}
    assert db.session.scalar(select(func.count()).select_from(Conversion)) == CONVERSIONS
