"""Finance's payout batch pages: build with progress, approve, download, pay, void; refusals shown, nothing written."""

from __future__ import annotations

import csv
import io
import threading

import pytest
from sqlalchemy import func, select

from core.db import db
from payouts.batches import background_builds, lifecycle, pages
from payouts.batches.models import PayoutBatch
from payouts.ledger.entries import adjust
from payouts.ledger.models import LedgerEntry
from tests.core.people.conftest import cheap_hashes, compiled_catalogues, fresh_request_globals  # noqa: F401
from tests.core.people.helpers import form_token, make_person, sign_in
from tests.payouts.batches.test_batches import approve_all, give_profile
from tests.payouts.ledger_helpers import running_program

JULY = {"period_end": "2031-07-31", "currency": "RUB", "payout_date": "2031-08-05", "minimum_payout": "0"}


@pytest.fixture
def program(app):
    yield from running_program(app)


@pytest.fixture
def finance(program):
    """A signed-in finance person, and one partner owed 100,000.00 RUB of approved commission."""
    give_profile(program.plain)
    program.convert("P-1", amount="1250000.00", coupon="PLAIN")  # 8%: 100,000.00 RUB
    approve_all(program)
    make_person("finance", email="finance@people.example")
    client = program.client
    sign_in(client, "finance@people.example")
    return client


def batch_count() -> int:
    db.session.rollback()  # a fresh look: the build committed in a thread of its own
    return db.session.scalar(select(func.count()).select_from(PayoutBatch))


def post(client, path: str, token_from: str, **data):
    return client.post(path, data={**data, "csrf_token": form_token(client, token_from)})


def build(client, **changes):
    """Submit the form; returns the answer and the page the browser ends on."""
    response = post(client, "/portal/batches", "/portal/batches", **{**JULY, **changes})
    if response.status_code != 303:
        return response, response
    db.session.rollback()  # the test's session is the requests' session; let it see the build's commit
    return response, client.get(response.headers["Location"], follow_redirects=True)


def only_batch() -> PayoutBatch:
    db.session.rollback()
    [batch] = db.session.scalars(select(PayoutBatch)).all()
    return batch


def test_finance_builds_approves_downloads_and_pays_a_batch(finance, program):
    _, page = build(finance)
    batch = only_batch()
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and f"Payout batch #{batch.id}" in text
    assert "The batch is built" in text and "87,000.00" in text and "130,000.00" in text  # net, company cost
    assert "Approve batch" in text and "Mark paid" not in text
    listed = finance.get("/portal/batches").get_data(as_text=True)
    assert f'href="/portal/batches/{batch.id}"' in listed and "100,000.00" in listed

    approved = post(finance, f"/portal/batches/{batch.id}/approve", f"/portal/batches/{batch.id}")
    assert approved.status_code == 303 and only_batch().state == "approved"

    download = finance.get(f"/portal/batches/{batch.id}/export.csv")
    assert download.status_code == 200 and download.mimetype == "text/csv"
    assert download.headers["Content-Disposition"] == f'attachment; filename="payout-batch-{batch.id}.csv"'
    rows = list(csv.reader(io.StringIO(download.get_data(as_text=True).lstrip("\ufeff"))))
    assert any(str(program.plain.id) in row and "87000.00" in row for row in rows), rows
    assert only_batch().state == "exported"
    journal = finance.get(f"/portal/batches/{batch.id}/journal.csv")
    assert journal.status_code == 200 and journal.get_data()
    assert finance.get(f"/portal/batches/{batch.id}/export.xlsx").status_code == 200
    statement = finance.get(f"/portal/batches/{batch.id}/statements/{program.plain.id}.html")
    assert statement.status_code == 200 and "P-1" in statement.get_data(as_text=True)

    paid = post(finance, f"/portal/batches/{batch.id}/mark-paid", f"/portal/batches/{batch.id}")
    assert paid.status_code == 303
    assert only_batch().state == "paid"
    assert db.session.scalar(select(func.count()).where(LedgerEntry.kind == "paid")) == 1
    again = post(finance, f"/portal/batches/{batch.id}/approve", f"/portal/batches/{batch.id}")
    assert again.status_code == 409 and "only a draft can be approved" in again.get_data(as_text=True)


def test_a_draft_is_voided_with_its_reason_and_not_without_one(finance):
    build(finance)
    batch = only_batch()
    empty = post(finance, f"/portal/batches/{batch.id}/void", f"/portal/batches/{batch.id}", reason="  ")
    assert empty.status_code == 409 and "give a reason for voiding the batch" in empty.get_data(as_text=True)
    assert only_batch().state == "draft"
    voided = post(finance, f"/portal/batches/{batch.id}/void", f"/portal/batches/{batch.id}", reason="wrong month")
    assert voided.status_code == 303
    batch = only_batch()
    assert (batch.state, batch.void_reason) == ("voided", "wrong month")
    refused = finance.get(f"/portal/batches/{batch.id}/export.csv")
    assert refused.status_code == 409 and "it pays nothing" in refused.get_data(as_text=True)


def test_a_rebuild_replaces_the_draft(finance):
    build(finance)
    old = only_batch()
    rebuilt = post(finance, f"/portal/batches/{old.id}/rebuild", f"/portal/batches/{old.id}")
    assert rebuilt.status_code == 303
    db.session.rollback()
    new = db.session.scalar(select(PayoutBatch).where(PayoutBatch.rebuilt_from_id == old.id))
    assert new is not None and rebuilt.headers["Location"] == f"/portal/batches/{new.id}?built=1"
    assert db.session.get(PayoutBatch, old.id).state == "voided"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"currency": "rub"}, "String should match pattern"),
        ({"currency": "XYZ"}, "is not an ISO 4217 currency code"),
        ({"period_end": ""}, "Required."),
        ({"period_end": "31.07.2031"}, "date"),
        ({"minimum_payout": "-5"}, "String should match pattern"),
        ({"minimum_payout": "0.001"}, "RUB has 2 decimal places"),
        ({"payout_date": "2031-07-01"}, "the payout date 2031-07-01 is before the period end 2031-07-31"),
        ({"period_end": "2031-05-31", "payout_date": "2031-06-01"}, "nothing approved and unpaid in RUB"),
    ],
)
def test_bad_input_is_refused_with_the_apis_message_and_nothing_is_written(finance, changes, message):
    response, _ = build(finance, **changes)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert batch_count() == 0


def test_a_build_while_another_holds_the_currency_is_a_clear_409(finance, monkeypatch):
    monkeypatch.setattr(lifecycle, "try_lock_builds", lambda currency: False)
    response, _ = build(finance)
    assert response.status_code == 409
    assert "another payout batch in RUB is being built right now" in response.get_data(as_text=True)
    assert batch_count() == 0


def test_a_slow_build_shows_its_progress_until_the_batch_is_complete(finance, monkeypatch):
    release, started = threading.Event(), []
    real_create, real_start = background_builds.create_batch, background_builds.start_build

    def held_back(*args, **kwargs):
        assert release.wait(30)
        return real_create(*args, **kwargs)

    def start(wanted):
        token, thread = real_start(wanted)
        started.append(thread)
        return token, thread

    monkeypatch.setattr(background_builds, "create_batch", held_back)
    monkeypatch.setattr(pages, "start_build", start)
    monkeypatch.setattr(pages, "WAIT_FOR_BUILD_SECONDS", 0)
    response = post(finance, "/portal/batches", "/portal/batches", **JULY)
    assert response.status_code == 303 and "/portal/batches/builds/" in response.headers["Location"]
    progress = finance.get(response.headers["Location"]).get_data(as_text=True)
    assert '<meta http-equiv="refresh"' in progress and "Reading the ledger" in progress
    assert "is being built" in finance.get("/portal/batches").get_data(as_text=True)
    assert batch_count() == 0  # nothing visible until the build commits whole

    release.set()
    started[0].join(30)
    db.session.rollback()
    done = finance.get(response.headers["Location"])
    assert done.status_code == 303 and done.headers["Location"] == f"/portal/batches/{only_batch().id}?built=1"
    assert "is being built" not in finance.get("/portal/batches").get_data(as_text=True)


def test_the_tracker_records_partners_priced_out_of_all(tmp_path):
    store, token = background_builds.FileProgress(tmp_path / "builds"), "0" * 32
    store.save(token, {"state": "running", "updated": "1.0"})
    track = background_builds.progress_tracker(store, token)
    assert list(track([(1, 10), (2, 20), (3, 30)])) == [(1, 10), (2, 20), (3, 30)]
    assert store.load(token) == {"state": "running", "done": "3", "total": "3", "updated": store.load(token)["updated"]}
    assert store.recent() == [token] and store.load("../" + token) is None


def test_balances_list_payable_amounts_per_partner_with_totals(finance, program):
    adjust(program.gold.id, 2500, "RUB", "bonus", "finance")
    page = finance.get("/portal/balances")
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert f'id="balance-{program.plain.id}-RUB"' in text and "100,000.00" in text
    assert f'id="balance-{program.gold.id}-RUB"' in text and "100,025.00" in text  # the RUB total
    assert 'aria-current="page"' in text and "Payout batches" in text


@pytest.mark.parametrize("role", ["partner", "advertiser"])
@pytest.mark.parametrize("app", ["sqlite"], indirect=True)
def test_other_roles_get_403_and_change_nothing(finance, program, role):
    build(finance)
    batch = only_batch()
    other = program.client.application.test_client()
    sign_in(other, make_person(role).email)
    token = form_token(other, "/portal")
    for path in (
        "/portal/batches",
        f"/portal/batches/{batch.id}",
        "/portal/balances",
        f"/portal/batches/{batch.id}/export.csv",
    ):
        assert other.get(path).status_code == 403, path
    assert other.post("/portal/batches", data={**JULY, "csrf_token": token}).status_code == 403
    assert other.post(f"/portal/batches/{batch.id}/approve", data={"csrf_token": token}).status_code == 403
    assert batch_count() == 1 and only_batch().state == "draft"


@pytest.mark.parametrize("app", ["sqlite"], indirect=True)
def test_anyone_not_signed_in_is_sent_to_sign_in(app, client):
    for path in ("/portal/batches", "/portal/batches/1", "/portal/balances"):
        assert client.get(path).headers["Location"].startswith("/login?next="), path
    response = client.post("/portal/batches", data={**JULY, "csrf_token": form_token(client)})
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")


@pytest.mark.parametrize("app", ["sqlite"], indirect=True)
def test_a_post_without_its_csrf_token_is_refused(finance):
    assert finance.post("/portal/batches", data=JULY).status_code == 400
    assert batch_count() == 0
    build(finance)
    batch = only_batch()
    assert finance.post(f"/portal/batches/{batch.id}/approve").status_code == 400
    assert finance.post(f"/portal/batches/{batch.id}/void", data={"reason": "x"}).status_code == 400
    assert only_batch().state == "draft"


@pytest.mark.parametrize("app", ["sqlite"], indirect=True)
def test_an_unknown_batch_or_build_is_404(finance):
    assert finance.get("/portal/batches/999").status_code == 404
    assert finance.get("/portal/batches/builds/nope").status_code == 404
    assert finance.get("/portal/batches/999/export.csv").status_code == 404


def test_progress_in_redis_is_seen_by_every_web_worker(redis_url, redis_prefix):
    import redis as redis_lib

    store = background_builds.RedisProgress(redis_lib.Redis.from_url(redis_url), redis_prefix)
    store.save("b1", {"state": "running", "currency": "EUR", "done": "0", "total": "0", "updated": "1.0"})
    store.save("b1", {"done": "5", "total": "9"})
    assert store.load("b1") == {"state": "running", "currency": "EUR", "done": "5", "total": "9", "updated": "1.0"}
    assert store.recent() == ["b1"] and store.load("missing") is None
