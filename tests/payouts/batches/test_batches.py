"""Payout batches from the ledger: tax per partner, held lines, carry-over, clawbacks, payment, races, exports."""

from __future__ import annotations

import csv
import io
import json
import threading
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
import time_machine
from openpyxl import load_workbook
from sqlalchemy import func, select

from core.db import db
from payouts.batches.lifecycle import (
    BatchError,
    approve_batch,
    create_batch,
    mark_exported,
    mark_paid,
    paid_this_year,
)
from payouts.batches.models import BatchFrozen, PayoutBatch, PayoutItem
from payouts.exports.spreadsheets import HEADER
from payouts.ledger.entries import adjust
from payouts.ledger.models import LedgerEntry
from payouts.tax.models import TaxProfile
from payouts.tax.profiles import clean_profile
from tests.factories import PartnerFactory, expect
from tests.payouts.ledger_helpers import HOLD, T0, running_program

JULY = date(2031, 7, 31)
PAYDAY = date(2031, 8, 5)
W8BEN = {"form": "W-8BEN", "signed_on": date(2025, 1, 10), "expires_on": date(2028, 12, 31)}


@pytest.fixture
def program(app):
    yield from running_program(app)


def give_profile(partner, **changes) -> None:
    values = (
        dict(
            kind="individual",
            country="RU",
            tax_resident=True,
            tax_id=None,
            vat_registered=False,
            vat_number=None,
            regime_code="ru_individual",
            pays="gross",
            regime_inputs={},
            iban=None,
            bic=None,
            account_holder=None,
            forms=[],
            self_billing_agreement=False,
        )
        | changes
    )
    db.session.add(TaxProfile(partner_id=partner.id, **clean_profile(values, today=date(2026, 3, 1))))
    db.session.commit()


def approve_all(program) -> None:
    with time_machine.travel(T0 + HOLD, tick=False):
        program.approve_due()


def by_partner(batch) -> dict:
    return {line.partner_id: line for line in batch.lines}


def test_a_batch_taxes_approved_commissions_as_the_tax_facts_say(program):
    give_profile(program.plain)
    program.convert("P-1", amount="1250000.00", coupon="PLAIN")  # 8%: 100,000.00 RUB
    approve_all(program)
    response = program.client.post(
        "/api/v1/payout-batches",
        headers=program.finance,
        json={"period_end": "2031-07-31", "currency": "RUB", "payout_date": "2031-08-05"},
    )
    assert response.status_code == 201, response.json
    [line] = [line for line in response.json["lines"] if line["partner_id"] == program.plain.id]
    # TAX-FACTS example 1: NDFL 13,000; net 87,000; contributions 30,000; company cost 130,000.
    assert (line["gross"], line["withholding"], line["net"], line["contributions"], line["company_cost"]) == (
        "100000.00",
        "13000.00",
        "87000.00",
        "30000.00",
        "130000.00",
    )
    assert line["status"] == "payable" and line["regime"] == "ru_individual"
    again = program.client.get(f"/api/v1/payout-batches/{response.json['id']}", headers=program.finance)
    assert again.json["totals"]["net"] == "87000.00" and again.json["state"] == "draft"
    assert (
        program.client.post(
            "/api/v1/payout-batches", headers=program.vendor, json={"period_end": "2031-07-31", "currency": "RUB"}
        ).status_code
        == 403
    )


def test_the_api_approves_exports_and_pays_a_batch(program):
    give_profile(program.plain)
    adjust(program.plain.id, 100000, "RUB", "bonus", "finance")
    created = expect(
        program.client.post(
            "/api/v1/payout-batches",
            headers=program.finance,
            json={"period_end": "2031-07-31", "currency": "RUB", "minimum_payout": "500"},
        ),
        201,
    )
    url = f"/api/v1/payout-batches/{created['id']}"
    assert program.client.post(f"{url}/mark-paid", json={}, headers=program.finance).status_code == 409
    assert expect(program.client.post(f"{url}/approve", json={}, headers=program.finance), 200)["state"] == "approved"
    assert program.client.post(f"{url}/approve", json={}, headers=program.finance).status_code == 409
    xlsx = program.client.get(f"{url}/export.xlsx", headers=program.finance)
    assert xlsx.status_code == 200 and xlsx.data[:2] == b"PK"
    assert program.client.get(url, headers=program.finance).json["state"] == "exported"
    paid = expect(program.client.post(f"{url}/mark-paid", json={}, headers=program.finance), 200)
    assert paid["state"] == "paid" and paid["paid_at"] is not None
    assert program.balance(program.plain)["paid"] == "1000.00"
    assert program.client.get("/api/v1/payout-batches/999", headers=program.finance).status_code == 404
    assert (
        program.client.post(
            "/api/v1/payout-batches", headers=program.finance, json={"period_end": "2031-07-31", "currency": "RUB"}
        ).status_code
        == 422
    )  # nothing left to pay


def test_partners_who_cannot_be_paid_are_held_with_the_reason(program):
    give_profile(
        program.gold,
        country="DE",
        tax_resident=False,
        regime_code="us_foreign_w8",
        regime_inputs={"services_abroad": False},
        forms=[W8BEN],
    )
    program.convert("S-1", amount="1000.00")  # the reseller and its distributor: no profiles
    program.convert("G-1", amount="1000.00", coupon="GOLD")
    approve_all(program)
    batch = create_batch(JULY, "RUB", PAYDAY, 0, "test")
    lines = by_partner(batch)
    assert lines[program.reseller.id].held_reason == "the partner has no tax profile"
    assert lines[program.gold.id].held_reason == "the W-8BEN on file expired on 2028-12-31; collect a new one"
    assert all(line.status == "held" and line.net_minor == 0 for line in lines.values())
    assert lines[program.gold.id].amount_minor == 10000  # what waits for the next batch
    assert db.session.scalar(select(func.count()).select_from(PayoutItem)) == 0


def test_an_amount_under_the_minimum_is_carried_over_to_the_next_batch(program):
    give_profile(program.reseller)
    program.convert("S-1", amount="1000.00")
    approve_all(program)
    first = create_batch(JULY, "RUB", PAYDAY, 100000, "test")
    line = by_partner(first)[program.reseller.id]
    assert (
        line.status == "held"
        and line.held_reason == "under the minimum payout of 1000.00 RUB (owed 80.00); carried over"
    )
    with time_machine.travel(T0 + HOLD, tick=False):
        adjust(program.reseller.id, 100000, "RUB", "launch bonus", "finance")
    second = create_batch(JULY, "RUB", PAYDAY, 100000, "test")
    line = by_partner(second)[program.reseller.id]
    assert (line.status, line.amount_minor, line.gross_minor) == ("payable", 108000, 108000)


def test_mark_paid_appends_paid_rows_and_a_later_clawback_is_netted_in_the_next_batch(program):
    give_profile(program.plain)
    conversion = program.convert("P-1", amount="10000.00", coupon="PLAIN")  # 800.00
    approve_all(program)
    batch = create_batch(JULY, "RUB", PAYDAY, 0, "test")
    with pytest.raises(BatchError, match="approve it"):
        mark_paid(batch)
    approve_batch(batch)
    by_partner(batch)[program.plain.id].net_minor = 1
    with pytest.raises(BatchFrozen):
        db.session.flush()
    db.session.rollback()
    assert mark_paid(batch) == 1
    paid = db.session.scalar(select(LedgerEntry).where(LedgerEntry.kind == "paid"))
    assert (paid.amount_minor, paid.payout_batch_id, paid.partner_id, batch.state) == (
        80000,
        batch.id,
        program.plain.id,
        "paid",
    )
    assert paid.settles_id is None  # the line's payment; its item reads paid through the batch
    assert program.owed(program.plain) == [("800.00", "paid")]
    assert program.balance(program.plain)["paid"] == "800.00"
    assert program.balance(program.plain)["payable"] == "0.00"

    program.decide(conversion, "approve")
    program.decide(conversion, "reverse")  # after payment: owed back
    assert program.balance(program.plain)["clawback"] == "-800.00"
    with time_machine.travel(T0 + HOLD, tick=False):
        adjust(program.plain.id, 100000, "RUB", "quarterly bonus", "finance")
    second = create_batch(JULY, "RUB", PAYDAY, 0, "test")
    assert by_partner(second)[program.plain.id].amount_minor == 20000  # 1,000.00 less the 800.00 clawback
    approve_batch(second)
    assert mark_paid(second) == 1  # one line: the bonus with the clawback netted
    balance = program.balance(program.plain)
    assert (balance["clawback"], balance["paid"], balance["payable"]) == ("0.00", "1000.00", "0.00")
    with pytest.raises(BatchError, match="nothing approved and unpaid"):
        create_batch(JULY, "RUB", PAYDAY, 0, "test")


def test_a_commission_reversed_after_the_batch_was_built_is_paid_and_clawed_back(program):
    # The bank paid the exported batch as approved; the reversal that came first makes the payment owed back.
    give_profile(program.plain)
    conversion = program.convert("P-1", amount="10000.00", coupon="PLAIN")
    program.convert("P-2", amount="5000.00", coupon="PLAIN")
    approve_all(program)
    batch = approve_batch(create_batch(JULY, "RUB", PAYDAY, 0, "test"))
    program.decide(conversion, "approve")
    program.decide(conversion, "reverse")
    assert mark_paid(batch) == 1
    reversed_accrual = db.session.scalar(
        select(LedgerEntry.id).where(LedgerEntry.conversion_id == conversion, LedgerEntry.kind == "accrued")
    )
    steps = db.session.execute(
        select(LedgerEntry.kind, LedgerEntry.amount_minor).where(LedgerEntry.settles_id == reversed_accrual)
    ).all()
    assert sorted(steps) == [("approved", 80000), ("clawed_back", -80000), ("reversed", -80000)]
    payments = db.session.execute(select(LedgerEntry.amount_minor).where(LedgerEntry.kind == "paid")).scalars()
    assert list(payments) == [120000]  # the line: both commissions, the reversed one included
    assert program.owed(program.plain) == [("800.00", "reversed"), ("400.00", "paid")]
    balance = program.balance(program.plain)
    assert (balance["paid"], balance["clawback"], balance["payable"]) == ("1200.00", "-800.00", "-800.00")


def test_earlier_paid_batches_count_as_paid_this_year(program):
    give_profile(program.plain)
    adjust(program.plain.id, 500000, "RUB", "bonus", "finance")
    first = create_batch(JULY, "RUB", PAYDAY, 0, "test")
    approve_batch(first)
    mark_paid(first)
    assert paid_this_year(program.plain.id, "RUB", date(2031, 12, 1)) == 500000
    assert paid_this_year(program.plain.id, "RUB", date(2032, 1, 10)) == 0


@pytest.mark.parametrize("app", ["postgresql"], indirect=True)  # SQLite has one writer: no race to test
def test_two_batches_at_once_never_claim_one_ledger_amount(program):
    partners = [PartnerFactory() for _ in range(6)]
    db.session.commit()
    for partner in partners:
        give_profile(partner)
        for bonus in range(3):
            adjust(partner.id, 10000 + bonus, "RUB", f"bonus {bonus}", "finance")
    outcomes, barrier = [], threading.Barrier(4)

    def run():
        with program.client.application.app_context():
            barrier.wait()
            try:
                outcomes.append(create_batch(JULY, "RUB", PAYDAY, 0, "test").id)
            except BatchError as error:
                outcomes.append(str(error))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    db.session.rollback()
    items = db.session.execute(select(PayoutItem.ledger_entry_id, PayoutItem.batch_id)).all()
    assert len(items) == 18 and len({entry for entry, _ in items}) == 18
    assert len({batch for _, batch in items}) == 1
    # Builds take turns per currency: a loser was refused while the winner built, or came after it and
    # found nothing left; none of them built a second batch.
    assert len(outcomes) == 4 and outcomes.count(items[0][1]) == 1
    assert db.session.scalar(select(func.count()).select_from(PayoutBatch)) == 1
    assert all(
        outcome == items[0][1] or "being built right now" in outcome or "nothing approved and unpaid" in outcome
        for outcome in outcomes
    )


def _csv_sums(body: bytes) -> dict[str, Decimal]:
    rows = list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"))))
    return {column: sum((Decimal(row[column]) for row in rows), Decimal(0)) for column in HEADER[4:10]}


def test_exports_reconcile_with_the_batch_to_the_cent(program, tmp_path):
    give_profile(program.plain)
    give_profile(program.gold, pays="net")
    program.convert("P-1", amount="1234567.89", coupon="PLAIN")
    program.convert("G-1", amount="3333.33", coupon="GOLD")
    program.convert("S-1", amount="1000.00")  # held: no profiles
    approve_all(program)
    created = expect(
        program.client.post(
            "/api/v1/payout-batches",
            headers=program.admin,
            json={"period_end": "2031-07-31", "currency": "RUB", "payout_date": "2031-08-05"},
        ),
        201,
    )
    totals = {column: Decimal(created["totals"][column]) for column in HEADER[4:10]}
    assert totals["net"] > 0

    csv_body = program.client.get(f"/api/v1/payout-batches/{created['id']}/export.csv", headers=program.finance)
    assert csv_body.status_code == 200 and csv_body.mimetype == "text/csv"
    assert _csv_sums(csv_body.data) == totals

    out = tmp_path / "batch.xlsx"
    result = program.client.application.test_cli_runner().invoke(
        args=["payouts", "export", "--batch", str(created["id"]), "--format", "xlsx", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    sheet = load_workbook(out).active
    cells = list(sheet.iter_rows(values_only=True))
    assert list(cells[0]) == list(HEADER) and cells[-1][2] == "TOTAL"
    body, total = cells[1:-1], cells[-1]
    for index, column in enumerate(HEADER[4:10], start=4):
        summed = sum((Decimal(str(row[index])) for row in body), Decimal(0))
        assert summed == Decimal(str(total[index])) == totals[column], column
    assert len(body) == len(created["lines"]) == 4  # plain, gold, reseller, distributor


def test_the_cli_builds_and_pays_a_batch(program, tmp_path):
    give_profile(program.plain)
    adjust(program.plain.id, 200000, "RUB", "bonus", "finance")
    runner = program.client.application.test_cli_runner()
    built = runner.invoke(args=["payouts", "batch", "--period", "2031-07", "--currency", "RUB", "--minimum", "1000"])
    assert built.exit_code == 0, built.output
    assert "1 partners, 0 held" in built.output
    batch = db.session.scalar(select(PayoutBatch))
    assert runner.invoke(args=["payouts", "mark-paid", "--batch", str(batch.id)]).exit_code == 1
    approve_batch(batch)
    out = tmp_path / "b.csv"
    exported = runner.invoke(args=["payouts", "export", "--batch", str(batch.id), "--format", "csv", "--out", str(out)])
    assert exported.exit_code == 0 and "first export, stored at" in exported.output, exported.output
    assert _csv_sums(out.read_bytes())["gross"] == Decimal("2000.00")
    paid = runner.invoke(args=["payouts", "mark-paid", "--batch", str(batch.id)])
    assert "1 ledger rows appended" in paid.output
    again = runner.invoke(args=["payouts", "export", "--batch", str(batch.id), "--format", "csv", "--out", str(out)])
    assert again.exit_code == 0 and "repeat of the file first exported at" in again.output, again.output
    never = runner.invoke(args=["payouts", "export", "--batch", str(batch.id), "--format", "xlsx", "--out", str(out)])
    assert never.exit_code == 1 and "is paid and was never exported as xlsx" in never.output


def _line_figures(batch, partner) -> tuple[int, int, int]:
    line = by_partner(batch)[partner.id]
    return line.gross_minor, line.withholding_minor, line.contributions_minor


def test_an_approved_batch_not_yet_paid_counts_toward_the_next_batchs_year_to_date(program):
    give_profile(program.plain)
    adjust(program.plain.id, 240000000, "RUB", "bonus", "finance")  # 2,400,000.00: the top of NDFL's 13% band
    first = create_batch(JULY, "RUB", PAYDAY, 0, "test")
    assert paid_this_year(program.plain.id, "RUB", PAYDAY) == 0  # a draft may still change: it does not count
    approve_batch(first)
    assert paid_this_year(program.plain.id, "RUB", PAYDAY) == 240000000
    adjust(program.plain.id, 10000000, "RUB", "bonus", "finance")
    second = create_batch(JULY, "RUB", PAYDAY, 0, "test")
    # 100,000.00 above 2.4M this year: NDFL 15% (15,000), not 13% (13,000) as if the first had not been built.
    assert _line_figures(second, program.plain)[:2] == (10000000, 1500000)
    mark_exported(first)
    approve_batch(second)
    assert paid_this_year(program.plain.id, "RUB", PAYDAY) == 250000000
    mark_paid(first)
    assert paid_this_year(program.plain.id, "RUB", date(2031, 12, 31)) == 250000000


def test_a_partner_who_changes_regime_mid_year_has_each_regimes_income_counted_apart(program):
    # NPD's presets end with 2028, so this happens in 2028.
    period_end, payday = date(2028, 7, 31), date(2028, 8, 5)
    with time_machine.travel(datetime(2028, 7, 31, 12, tzinfo=UTC), tick=False):
        give_profile(program.plain, regime_code="ru_self_employed")
        adjust(program.plain.id, 240000000, "RUB", "bonus", "finance")
        first = approve_batch(create_batch(period_end, "RUB", payday, 0, "test"))
        assert _line_figures(first, program.plain) == (240000000, 0, 0)  # NPD: the partner pays it himself
        profile = db.session.scalar(select(TaxProfile).where(TaxProfile.partner_id == program.plain.id))
        profile.regime_code = "ru_individual"
        db.session.commit()
        adjust(program.plain.id, 10000000, "RUB", "bonus", "finance")
        second = create_batch(period_end, "RUB", payday, 0, "test")
        # The self-employed 2.4M is not NDFL income: the civil contract starts at the bottom of both bands.
        assert _line_figures(second, program.plain) == (10000000, 1300000, 3000000)
        assert by_partner(second)[program.plain.id].regime == "ru_individual"
        assert paid_this_year(program.plain.id, "RUB", payday, "ru_self_employed") == 240000000
        assert paid_this_year(program.plain.id, "RUB", payday, "ru_individual") == 0


def test_a_quote_by_partner_prices_from_the_partners_year_to_date(program):
    give_profile(program.plain)
    adjust(program.plain.id, 240000000, "RUB", "bonus", "finance")
    approve_batch(create_batch(JULY, "RUB", PAYDAY, 0, "test"))
    body = {"partner_id": program.plain.id, "amount": "100000", "payout_date": "2031-09-01"}
    answer = expect(program.client.post("/api/v1/tax/quotes", headers=program.finance, json=body), 200)
    assert answer["withholding"] == "15000.00"
    stated = body | {"paid_this_year": "0"}  # an explicit figure wins over the batches
    answer = expect(program.client.post("/api/v1/tax/quotes", headers=program.finance, json=stated), 200)
    assert answer["withholding"] == "13000.00"
    runner = program.client.application.test_cli_runner()
    arguments = ["payouts", "quote", "--partner-id", str(program.plain.id), "--amount", "100000", "--json"]
    cli = runner.invoke(args=[*arguments, "--date", "2031-09-01"])
    assert cli.exit_code == 0, cli.output
    assert json.loads(cli.output)["withholding"] == "15000.00"
    next_year = runner.invoke(args=[*arguments, "--date", "2032-01-15"])
    assert json.loads(next_year.output)["withholding"] == "13000.00"
    stated_cli = runner.invoke(args=[*arguments, "--date", "2031-09-01", "--paid-this-year", "0"])
    assert json.loads(stated_cli.output)["withholding"] == "13000.00"


def test_a_payout_date_before_the_period_end_or_in_a_closed_year_is_refused(program):
    give_profile(program.plain)
    adjust(program.plain.id, 100000, "RUB", "bonus", "finance")
    with pytest.raises(BatchError, match="before the period end 2031-07-31"):
        create_batch(JULY, "RUB", date(2031, 7, 30), 0, "test")
    early = {"period_end": "2031-07-31", "currency": "RUB", "payout_date": "2031-07-30"}
    response = program.client.post("/api/v1/payout-batches", headers=program.finance, json=early)
    assert response.status_code == 422 and "before the period end" in response.json["error"]
    runner = program.client.application.test_cli_runner()
    cli = runner.invoke(
        args=["payouts", "batch", "--period", "2031-07", "--currency", "RUB", "--payout-date", "2031-07-01"]
    )
    assert cli.exit_code == 1 and "before the period end 2031-07-31" in cli.output
    with time_machine.travel(date(2032, 1, 10), tick=False):
        with pytest.raises(BatchError, match="2031, a closed year"):
            create_batch(JULY, "RUB", PAYDAY, 0, "test")
        late = {"period_end": "2031-07-31", "currency": "RUB", "payout_date": "2031-12-31"}
        response = program.client.post("/api/v1/payout-batches", headers=program.finance, json=late)
        assert response.status_code == 422 and "closed year" in response.json["error"]
        cli = runner.invoke(args=["payouts", "batch", "--period", "2031-07", "--currency", "RUB"])
        assert cli.exit_code == 1 and "closed year" in cli.output
        assert db.session.scalar(select(func.count()).select_from(PayoutBatch)) == 0
        assert create_batch(JULY, "RUB", date(2032, 1, 10), 0, "test").payout_date == date(2032, 1, 10)
