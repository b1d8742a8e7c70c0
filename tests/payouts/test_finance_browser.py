"""Finance builds a payout batch from approved commissions, approves it, downloads its CSV and marks it paid, in
a real browser (Debian's Chromium through Playwright). Screenshots of each step go to tests/artifacts/screens/."""

from __future__ import annotations

import csv
import io

import pytest

from tests.browser import screenshot, signed_in_page
from tests.core.people.conftest import cheap_hashes, compiled_catalogues, fresh_request_globals  # noqa: F401
from tests.core.people.helpers import make_person
from tests.payouts.batches.test_batches import approve_all, give_profile
from tests.payouts.ledger_helpers import running_program

pytestmark = pytest.mark.usefixtures("compiled_catalogues")


@pytest.fixture
def program(app):
    yield from running_program(app)


def shot(page, name: str) -> None:
    screenshot(page, f"finance-batches-{name}")


@pytest.mark.parametrize("app", ["sqlite"], indirect=True)
def test_finance_builds_approves_downloads_and_pays_a_batch(app, program, browser, site):
    give_profile(program.plain)
    give_profile(program.gold)
    program.convert("P-1", amount="1250000.00", coupon="PLAIN")  # 8%: 100,000.00 RUB
    program.convert("G-1", amount="5000.00", coupon="GOLD")  # 10%: 500.00 RUB, under the minimum below
    approve_all(program)
    make_person("finance", email="money@handoff.example")
    page = signed_in_page(browser, site, "money@handoff.example", accept_downloads=True)
    page.click(".portal-menu >> text=Payout batches")
    page.wait_for_url(f"{site}/portal/batches")
    assert "No payout batches yet." in page.text_content("main")

    page.fill("#period_end", "2031-07-31")
    page.fill("#currency", "RUB")
    page.fill("#payout_date", "2031-08-05")
    page.fill("#minimum_payout", "1000")
    first, last = page.locator("#period_end").bounding_box(), page.locator("#minimum_payout").bounding_box()
    assert first["y"] == last["y"] and last["x"] > first["x"] + first["width"]  # the fields in one row
    shot(page, "1-form")
    page.click("#create-batch button[type=submit]")
    page.wait_for_url(f"{site}/portal/batches/*?built=1")
    assert "The batch is built" in page.text_content("#batch-notice")
    plain_line = page.text_content(f"#line-{program.plain.id}")
    assert (
        "100,000.00" in plain_line and "87,000.00" in plain_line and "130,000.00" in plain_line
    )  # net and company cost
    assert "under the minimum payout" in page.text_content("#held")
    assert "payable" in plain_line and "Russia: individual under a civil contract" in plain_line
    assert "money@handoff.example (finance)" in page.text_content("#batch-created-by")
    company_cost, table = page.locator("#totals td").last.bounding_box(), page.locator(".table-scroll").bounding_box()
    assert company_cost["x"] + company_cost["width"] <= table["x"] + table["width"]  # every column in view
    shot(page, "2-draft")

    page.click("#approve button")
    page.wait_for_url("**?approved=1")
    assert "Approved" in page.text_content("#batch-notice")
    with page.expect_download() as info:
        page.click("#downloads >> text=CSV")
    download = info.value
    assert download.suggested_filename.endswith(".csv")
    rows = list(csv.DictReader(io.StringIO(download.path().read_text(encoding="utf-8-sig"))))
    [paid_row] = [row for row in rows if row["partner_id"] == str(program.plain.id)]
    assert (paid_row["gross"], paid_row["withholding"], paid_row["net"]) == ("100000.00", "13000.00", "87000.00")
    shot(page, "3-approved")

    page.click("#mark-paid button")
    page.wait_for_url("**?paid=1")
    assert "Marked paid" in page.text_content("#batch-notice")
    assert "paid" in page.text_content("h1")
    shot(page, "4-paid")
    page.click("text=All payout batches")
    page.wait_for_url(f"{site}/portal/batches")
    assert "paid" in page.text_content("#batches tbody tr")
    shot(page, "5-list")
    page.click(".portal-menu >> text=Balances")
    page.wait_for_url(f"{site}/portal/balances")
    assert "100,000.00" in page.text_content(f"#balance-{program.plain.id}-RUB")
    shot(page, "6-balances")
