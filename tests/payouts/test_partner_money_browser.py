"""A partner reads its commissions, fixes its IBAN and registers a deal in a real browser (Debian's Chromium).

Screenshots of each step go to tests/artifacts/screens/ (not committed).
"""

from __future__ import annotations

import pytest

from tests.browser import screenshot, signed_in_page
from tests.core.people.conftest import cheap_hashes, compiled_catalogues, fresh_request_globals  # noqa: F401
from tests.core.people.helpers import PASSWORD, make_person
from tests.payouts.batches.test_batches import give_profile
from tests.payouts.ledger_helpers import ISSUE_PLAN, Program
from tests.payouts.tax.test_pages import BAD_IBAN, DE_COMPANY, GOOD_IBAN

pytestmark = pytest.mark.usefixtures("compiled_catalogues")


def shot(page, name: str) -> None:
    screenshot(page, f"partner-money-{name}")


def menu(page, site, label: str, path: str) -> None:
    page.click(f"nav.portal-menu >> text={label}")
    page.wait_for_url(f"{site}{path}")


@pytest.mark.parametrize("app", ["sqlite"], indirect=True)
def test_a_partner_reads_commissions_fixes_its_iban_and_registers_a_deal(app, browser, site):
    program = Program(app)
    assert program.set_plan(ISSUE_PLAN).status_code == 200
    program.convert("P-1", amount="1000.00", coupon="PLAIN")  # 8%: 80.00 RUB
    program.convert("G-1", amount="7777.00", coupon="GOLD")  # another partner's 777.70 RUB
    give_profile(program.plain, **DE_COMPANY, iban=None, account_holder="Contoso GmbH")
    make_person("partner", email="money@contoso.example", partner_id=program.plain.id)

    page = signed_in_page(browser, site, "money@contoso.example")

    menu(page, site, "Commissions", "/portal/commissions")
    rows = page.locator("#commissions tbody tr")
    assert rows.count() == 1 and "RUB80.00" in rows.first.text_content()
    assert "In hold" in rows.first.text_content() and "RUB80.00" in page.text_content("#balance-RUB")
    assert "777.70" not in page.text_content("main")
    shot(page, "1-commissions")

    menu(page, site, "Tax and bank", "/portal/tax")
    assert "DE136695976" in page.text_content("#tax-profile")
    page.fill("#iban", BAD_IBAN)
    page.fill("#password", PASSWORD)
    page.click("#bank-form button[type=submit]")
    page.wait_for_load_state()
    assert "not a valid IBAN" in page.text_content("#iban-error")
    assert page.get_attribute("#iban", "aria-invalid") == "true"
    shot(page, "2-bad-iban")
    page.fill("#iban", GOOD_IBAN)
    page.fill("#password", PASSWORD)
    page.click("#bank-form button[type=submit]")
    page.wait_for_url(f"{site}/portal/tax?saved=bank")
    assert "saved" in page.text_content("#bank-saved")
    assert page.input_value("#iban") == "DE89370400440532013000"
    shot(page, "3-iban-saved")

    menu(page, site, "Deal registrations", "/portal/deals")
    page.fill("#company_domain", "fabrikam.example")
    page.fill("#company_name", "Fabrikam")
    page.click("#deal-form button[type=submit]")
    page.wait_for_url(f"{site}/portal/deals?registered=*")
    assert page.is_visible("#deal-registered")
    row = page.locator("#deals tbody tr").first
    assert "fabrikam.example" in row.text_content() and "active until" in row.text_content()
    shot(page, "4-deal-registered")
