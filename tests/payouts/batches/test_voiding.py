"""Voiding a draft, refusing to approve a draft the ledger moved away from, and rebuilding it."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from core.db import db
from payouts.batches.lifecycle import BatchError, approve_batch, create_batch, paid_this_year
from payouts.batches.models import PayoutBatch, PayoutItem, PayoutLine
from payouts.batches.year_to_date import year_to_date_per_regime
from payouts.ledger.entries import adjust
from tests.factories import expect
from tests.payouts.batches.test_batches import JULY, PAYDAY, approve_all, by_partner, give_profile
from tests.payouts.ledger_helpers import running_program


@pytest.fixture
def program(app):
    yield from running_program(app)


def items_of(batch_id: int) -> int:
    return db.session.scalar(select(func.count()).select_from(PayoutItem).where(PayoutItem.batch_id == batch_id))


def test_a_voided_draft_releases_its_amounts_to_the_next_batch_and_leaves_year_to_date(program):
    give_profile(program.plain)
    adjust(program.plain.id, 500000, "RUB", "bonus", "finance")
    draft = create_batch(JULY, "RUB", PAYDAY, 0, "test")
    url = f"/api/v1/payout-batches/{draft.id}"
    for no_reason in ({}, {"reason": "  "}):
        assert program.client.post(f"{url}/void", json=no_reason, headers=program.finance).status_code == 422
    assert program.client.post(f"{url}/void", json={"reason": "x"}, headers=program.vendor).status_code == 403
    voided = expect(program.client.post(f"{url}/void", json={"reason": "wrong minimum"}, headers=program.finance), 200)
    assert (voided["state"], voided["void_reason"]) == ("voided", "wrong minimum")
    assert voided["voided_by"].startswith("finance")  # the key's name
    assert voided["voided_at"] is not None and voided["lines"][0]["gross"] == "5000.00"  # the record stays
    assert items_of(draft.id) == 0
    again = program.client.post(f"{url}/void", json={"reason": "twice"}, headers=program.finance)
    assert again.status_code == 409 and "already voided (wrong minimum)" in again.json["error"]
    for action in ("approve", "mark-paid"):
        assert program.client.post(f"{url}/{action}", json={}, headers=program.finance).status_code == 409
    refused = program.client.get(f"{url}/export.csv", headers=program.finance)
    assert refused.status_code == 409 and "voided" in refused.json["error"]
    statement = program.client.get(f"{url}/statements/{program.plain.id}.html", headers=program.finance)
    assert statement.status_code == 409 and "was voided; it pays nothing" in statement.json["error"]

    # The voided line (5,000.00 gross) counts toward no year-to-date base; the next batch takes its amount.
    assert paid_this_year(program.plain.id, "RUB", PAYDAY) == 0
    assert year_to_date_per_regime("RUB", PAYDAY) == {}
    db.session.expire_all()
    assert db.session.get(PayoutBatch, draft.id).state == "voided"
    assert db.session.scalar(select(func.count()).select_from(PayoutLine).where(PayoutLine.batch_id == draft.id)) == 1
    replacement = approve_batch(create_batch(JULY, "RUB", PAYDAY, 0, "test"))
    assert by_partner(replacement)[program.plain.id].amount_minor == 500000 and items_of(replacement.id) == 1
    assert paid_this_year(program.plain.id, "RUB", PAYDAY) == 500000  # once, not twice


def test_only_a_draft_is_voided_and_the_refusal_says_what_happens_to_reversals(program):
    give_profile(program.plain)
    adjust(program.plain.id, 500000, "RUB", "bonus", "finance")
    batch = approve_batch(create_batch(JULY, "RUB", PAYDAY, 0, "test"))
    refused = program.client.post(
        f"/api/v1/payout-batches/{batch.id}/void", json={"reason": "late"}, headers=program.finance
    )
    assert refused.status_code == 409
    assert "is approved; only a draft can be voided" in refused.json["error"]
    assert "clawed back" in refused.json["error"] and "next batch" in refused.json["error"]
    runner = program.client.application.test_cli_runner()
    cli = runner.invoke(args=["payouts", "void", "--batch", str(batch.id), "--reason", "late"])
    assert cli.exit_code == 1 and "only a draft can be voided" in cli.output
    rebuilt = program.client.post(f"/api/v1/payout-batches/{batch.id}/rebuild", headers=program.finance)
    assert rebuilt.status_code == 409 and "only a draft can be rebuilt" in rebuilt.json["error"]
    assert items_of(batch.id) == 1


def test_the_cli_voids_a_draft(program):
    give_profile(program.plain)
    adjust(program.plain.id, 500000, "RUB", "bonus", "finance")
    draft = create_batch(JULY, "RUB", PAYDAY, 0, "test")
    runner = program.client.application.test_cli_runner()
    assert runner.invoke(args=["payouts", "void", "--batch", str(draft.id), "--reason", "  "]).exit_code == 1
    cli = runner.invoke(args=["payouts", "void", "--batch", str(draft.id), "--reason", "duplicate run"])
    assert cli.exit_code == 0 and "voided" in cli.output, cli.output
    db.session.expire_all()
    voided = db.session.get(PayoutBatch, draft.id)
    assert (voided.state, voided.voided_by, voided.void_reason) == ("voided", "cli", "duplicate run")


def reversed_after_the_draft(program):
    """Plain: 800.00 and 400.00, the 800.00 reversed after the draft; gold: 100.00, reversed; reseller: 80.00
    and its distributor 10.00, untouched. Returns the draft."""
    for partner in (program.plain, program.gold, program.reseller, program.distributor):
        give_profile(partner)
    reversed_sale = program.convert("P-1", amount="10000.00", coupon="PLAIN")
    program.convert("P-2", amount="5000.00", coupon="PLAIN")
    gold_sale = program.convert("G-1", amount="1000.00", coupon="GOLD")
    program.convert("S-1", amount="1000.00")
    approve_all(program)
    draft = create_batch(JULY, "RUB", PAYDAY, 0, "test")
    for conversion in (reversed_sale, gold_sale):
        program.decide(conversion, "approve")
        program.decide(conversion, "reverse")
    return draft


def test_approving_a_draft_with_a_reversed_commission_is_refused_naming_the_partners(program):
    draft = reversed_after_the_draft(program)
    refused = program.client.post(f"/api/v1/payout-batches/{draft.id}/approve", json={}, headers=program.finance)
    assert refused.status_code == 409
    error = refused.json["error"]
    assert f"partner {program.plain.id} ({program.plain.name}): 1 commission (800.00 RUB) reversed" in error
    assert f"partner {program.gold.id} ({program.gold.name}): 1 commission (100.00 RUB) reversed" in error
    assert f"partner {program.reseller.id} " not in error
    assert f"/api/v1/payout-batches/{draft.id}/rebuild" in error and f"payouts rebuild --batch {draft.id}" in error
    with pytest.raises(BatchError, match="no longer matches the ledger"):
        approve_batch(draft)
    assert db.session.get(PayoutBatch, draft.id).state == "draft"


def test_a_rebuild_voids_the_draft_and_says_per_partner_what_changed(program):
    draft = reversed_after_the_draft(program)
    adjust(program.reseller.id, 2000, "RUB", "bonus", "finance")  # approved since: the reseller's line grows
    rebuilt = expect(program.client.post(f"/api/v1/payout-batches/{draft.id}/rebuild", headers=program.finance), 201)
    assert rebuilt["state"] == "draft" and rebuilt["rebuilt_from"] == draft.id and rebuilt["id"] != draft.id
    assert (rebuilt["period_end"], rebuilt["payout_date"]) == (str(JULY), str(PAYDAY))
    old = f"batch {draft.id} was built"
    assert rebuilt["changes"] == [
        {
            "partner_id": program.reseller.id,
            "change": "re-priced",
            "reason": f"20.00 RUB approved or adjusted since {old}; 80.00 -> 100.00",
        },
        {
            "partner_id": program.gold.id,
            "change": "dropped",
            "reason": f"every commission in the line was reversed since {old}",
        },
        {
            "partner_id": program.plain.id,
            "change": "re-priced",
            "reason": f"1 commission (800.00 RUB) reversed since {old}; 1,200.00 -> 400.00",
        },
    ]
    lines = {line["partner_id"]: line["amount"] for line in rebuilt["lines"]}
    assert lines == {program.plain.id: "400.00", program.reseller.id: "100.00", program.distributor.id: "10.00"}
    replaced = expect(program.client.get(f"/api/v1/payout-batches/{draft.id}", headers=program.finance), 200)
    assert (replaced["state"], replaced["void_reason"]) == ("voided", f"rebuilt as batch {rebuilt['id']}")
    assert replaced["rebuilt_as"] == rebuilt["id"] and items_of(draft.id) == 0
    approved = expect(
        program.client.post(f"/api/v1/payout-batches/{rebuilt['id']}/approve", json={}, headers=program.finance), 200
    )
    assert approved["state"] == "approved" and approved["changes"] == rebuilt["changes"]


def test_the_cli_rebuilds_and_prints_the_changes(program):
    draft = reversed_after_the_draft(program)
    runner = program.client.application.test_cli_runner()
    cli = runner.invoke(args=["payouts", "rebuild", "--batch", str(draft.id)])
    assert cli.exit_code == 0, cli.output
    new_id = db.session.scalar(select(PayoutBatch.id).where(PayoutBatch.rebuilt_from_id == draft.id))
    assert f"batch {draft.id} voided, rebuilt as batch {new_id}" in cli.output
    assert f"partner {program.gold.id} dropped: every commission in the line was reversed" in cli.output
    assert f"partner {program.plain.id} re-priced: 1 commission (800.00 RUB) reversed" in cli.output


def test_a_rebuild_that_finds_nothing_to_pay_leaves_the_draft_as_it_was(program):
    give_profile(program.gold)
    sale = program.convert("G-1", amount="1000.00", coupon="GOLD")
    approve_all(program)
    draft = create_batch(JULY, "RUB", PAYDAY, 0, "test")
    program.decide(sale, "approve")
    program.decide(sale, "reverse")
    refused = program.client.post(f"/api/v1/payout-batches/{draft.id}/rebuild", headers=program.finance)
    assert refused.status_code == 409 and "nothing approved and unpaid" in refused.json["error"]
    db.session.expire_all()
    assert db.session.get(PayoutBatch, draft.id).state == "draft" and items_of(draft.id) == 1
    voided = program.client.post(
        f"/api/v1/payout-batches/{draft.id}/void", json={"reason": "sale reversed"}, headers=program.finance
    )
    assert voided.status_code == 200
