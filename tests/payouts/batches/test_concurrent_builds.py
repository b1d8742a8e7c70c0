"""Two payout batch builds in one currency at once on PostgreSQL: one batch, and one clear 409.

The first build is held inside its transaction (its progress callback waits), so the second always meets
the held build lock; without the lock it would wait on the claim and rebuild into a second batch.
"""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from core.db import db
from payouts.batches.lifecycle import create_batch
from payouts.batches.models import PayoutBatch, PayoutItem
from payouts.ledger.entries import adjust
from tests.factories import PartnerFactory
from tests.payouts.batches.test_batches import JULY, PAYDAY, give_profile
from tests.payouts.ledger_helpers import running_program

BUSY = "another payout batch in RUB is being built right now; try again when it finishes"


@pytest.fixture
def program(app):
    yield from running_program(app)


def owed_partners(count: int) -> None:
    for number in range(count):
        partner = PartnerFactory()
        db.session.commit()
        give_profile(partner)
        adjust(partner.id, 10000 + number, "RUB", "bonus", "finance")
        adjust(partner.id, 500, "EUR", "bonus", "finance")


@pytest.mark.parametrize("app", ["postgresql"], indirect=True)  # SQLite has one writer: no race to test
def test_a_build_while_another_runs_is_refused_with_409_and_one_batch_is_built(program):
    owed_partners(3)
    app = program.client.application
    building, refused_meanwhile, outcome = threading.Event(), threading.Event(), []

    def held(partners):
        building.set()
        refused_meanwhile.wait(timeout=30)
        yield from partners

    def build() -> None:
        with app.app_context():
            try:
                outcome.append(create_batch(JULY, "RUB", PAYDAY, 0, "first", progress=held).id)
            finally:
                db.session.remove()

    first = threading.Thread(target=build)
    first.start()
    try:
        assert building.wait(timeout=30)
        body = {"period_end": str(JULY), "currency": "RUB", "payout_date": str(PAYDAY)}
        api = program.client.post("/api/v1/payout-batches", headers=program.finance, json=body)
        runner = app.test_cli_runner()
        cli = runner.invoke(args=["payouts", "batch", "--period", "2031-07", "--currency", "RUB"])
        db.session.rollback()
        # Another currency has its own lock: EUR builds while RUB is held.
        eur = program.client.post("/api/v1/payout-batches", headers=program.finance, json=body | {"currency": "EUR"})
    finally:
        refused_meanwhile.set()
        first.join()
    assert (api.status_code, api.json["error"]) == (409, BUSY)
    assert cli.exit_code == 1 and BUSY in cli.output
    assert eur.status_code == 201, eur.json
    db.session.rollback()
    [rub] = db.session.scalars(select(PayoutBatch).where(PayoutBatch.currency == "RUB")).all()
    assert outcome == [rub.id] and len(rub.lines) == 3
    assert db.session.scalar(select(func.count()).select_from(PayoutItem).where(PayoutItem.batch_id == rub.id)) == 3
