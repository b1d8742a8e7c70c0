"""Payment files are kept: the first export of an approved batch is stored, later ones repeat its bytes."""

from __future__ import annotations

import hashlib
import threading

import pytest
from sqlalchemy import func, select

from core.db import db
from payouts.batches.lifecycle import approve_batch, create_batch
from payouts.batches.models import PayoutBatch
from payouts.exports.archive import payment_file
from payouts.exports.models import PayoutExport
from payouts.ledger.entries import adjust
from tests.payouts.batches.test_batches import JULY, PAYDAY, give_profile
from tests.payouts.exports.test_exports import debtor, eur_batch  # noqa: F401 (debtor is a fixture)
from tests.payouts.ledger_helpers import running_program
from tracker.program.models import Partner


@pytest.fixture
def program(app):
    yield from running_program(app)


def stored() -> int:
    return db.session.scalar(select(func.count()).select_from(PayoutExport))


def rub_draft(program):
    give_profile(program.plain)
    adjust(program.plain.id, 200000, "RUB", "bonus", "finance")
    return create_batch(JULY, "RUB", PAYDAY, 0, "test")


def test_a_drafts_export_is_a_preview_and_the_first_export_of_an_approved_batch_is_kept(program):
    batch = rub_draft(program)
    url = f"/api/v1/payout-batches/{batch.id}"
    preview = program.client.get(f"{url}/export.csv", headers=program.finance)
    assert preview.status_code == 200 and preview.headers["X-Payout-Export"].startswith("preview of draft batch")
    assert stored() == 0 and program.client.get(url, headers=program.finance).json["state"] == "draft"

    approve_batch(batch)
    first = program.client.get(f"{url}/export.csv", headers=program.finance)
    digest = hashlib.sha256(first.data).hexdigest()
    assert first.status_code == 200 and first.headers["X-Payout-Export"].endswith(f"sha256 {digest}")
    assert first.headers["X-Payout-Export"].startswith("first export, stored at ")
    assert program.client.get(url, headers=program.finance).json["state"] == "exported"

    # The partner is renamed: a fresh rendering would differ, the bank's file does not.
    db.session.get(Partner, program.plain.id).name = "Renamed Ltd"
    db.session.commit()
    again = program.client.get(f"{url}/export.csv", headers=program.finance)
    row = db.session.scalar(select(PayoutExport))
    assert again.data == first.data and "Renamed" not in again.data.decode("utf-8-sig")
    assert again.headers["X-Payout-Export"] == (
        f"repeat of the file first exported at {row.created_at.isoformat()}, sha256 {digest}"
    )
    assert (row.format, row.sha256) == ("csv", digest) and row.created_by.startswith("finance")

    xlsx = program.client.get(f"{url}/export.xlsx", headers=program.finance)
    assert xlsx.headers["X-Payout-Export"].startswith("first export") and stored() == 2
    paid = program.client.post(f"{url}/mark-paid", json={}, headers=program.finance)
    assert paid.status_code == 200, paid.json
    after_payment = program.client.get(f"{url}/export.xlsx", headers=program.finance)
    assert after_payment.data == xlsx.data and after_payment.headers["X-Payout-Export"].startswith("repeat of")
    journal = program.client.get(f"{url}/export.journal.csv", headers=program.finance)
    assert journal.status_code == 200 and "X-Payout-Export" not in journal.headers and stored() == 2


def test_a_paid_batch_never_exported_in_a_format_produces_no_new_file(program):
    batch = approve_batch(rub_draft(program))
    url = f"/api/v1/payout-batches/{batch.id}"
    assert program.client.post(f"{url}/mark-paid", json={}, headers=program.finance).status_code == 200
    refused = program.client.get(f"{url}/export.csv", headers=program.finance)
    assert refused.status_code == 409
    assert refused.json["error"] == (
        f"batch {batch.id} is paid and was never exported as csv; a paid batch produces no new payment file"
    )
    assert stored() == 0


def test_a_repeated_sepa_file_keeps_its_bytes_and_the_lines_left_out(program, debtor, monkeypatch):  # noqa: F811
    batch, (*_, no_iban) = eur_batch(program)
    url = f"/api/v1/payout-batches/{batch.id}/export.sepa.xml"
    original = program.client.get(url, headers=program.finance)
    assert original.status_code == 200 and f"partner {no_iban.id}: held" in original.headers["X-Sepa-Excluded"]
    # The debtor account setting is gone: a new file would be refused, the kept one is still answered.
    program.client.application.config.pop("SEPA_DEBTOR_IBAN")
    monkeypatch.delenv("SEPA_DEBTOR_IBAN", raising=False)
    repeat = program.client.get(url, headers=program.finance)
    assert repeat.status_code == 200 and repeat.data == original.data
    assert repeat.headers["X-Sepa-Excluded"] == original.headers["X-Sepa-Excluded"]
    assert repeat.headers["X-Payout-Export"].startswith("repeat of the file first exported at")


@pytest.mark.parametrize("app", ["postgresql"], indirect=True)  # SQLite has one writer: no race to test
def test_two_first_exports_at_once_store_one_file_and_answer_it_to_both(program):
    batch_id = approve_batch(rub_draft(program)).id
    app, barrier, answers = program.client.application, threading.Barrier(2), []

    def render(batch):
        barrier.wait(timeout=30)  # both have looked for a stored file and found none
        return f"rendered by {threading.current_thread().name}".encode(), None

    def export(name: str) -> None:
        with app.app_context():
            try:
                answers.append(payment_file(db.session.get(PayoutBatch, batch_id), "csv", name, render))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=export, args=(name,), name=name) for name in ("one", "two")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    db.session.rollback()
    [kept] = db.session.scalars(select(PayoutExport)).all()
    assert len(answers) == 2 and {answer.body for answer in answers} == {kept.body}
    assert sorted(answer.note.split(" ")[0] for answer in answers) == ["first", "repeat"]
