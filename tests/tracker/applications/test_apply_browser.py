"""A company applies with the public form; an admin approves it and finds the new partner (real Chromium).

Screenshots of each step go to tests/artifacts/screens/ (not committed).
"""

from __future__ import annotations

import pytest

from tests.browser import screenshot
from tests.core.people.conftest import cheap_hashes, compiled_catalogues, fresh_request_globals  # noqa: F401
from tests.core.people.helpers import PASSWORD, make_person
from tests.tracker.helpers import CHROME

pytestmark = pytest.mark.usefixtures("compiled_catalogues")


def shot(page, name: str) -> None:
    screenshot(page, f"apply-{name}")


def fill_application(page, tax_id: str) -> None:
    page.fill("#company", "Fabrikam Reviews GmbH")
    page.fill("#contact_name", "Anna Weber")
    page.fill("#email", "anna@fabrikam.example")
    page.select_option("#kind", "reseller")
    page.select_option("#country", "DE")
    page.fill("#tax_id", tax_id)
    page.fill("#website", "https://fabrikam.example/reviews")
    page.fill("#promotion", "Reviews of office software.\nA newsletter with 12,000 readers.")


@pytest.mark.parametrize("app", ["sqlite"], indirect=True)
def test_a_company_applies_and_an_admin_approves_it(app, browser, site):
    make_person("admin", email="ops@handoff.example")
    page = browser.new_context(user_agent=CHROME, locale="en-GB").new_page()
    page.goto(f"{site}/apply")
    fill_application(page, "DE 136 695 977")
    page.click("#apply button[type=submit]")
    page.wait_for_load_state()
    assert "Not a valid tax id for this country" in page.text_content("#tax_id-error")
    shot(page, "1-bad-tax-id")
    page.fill("#tax_id", "DE 136 695 976")
    page.click("#apply button[type=submit]")
    page.wait_for_url(f"{site}/apply/thanks")
    assert "Your application has arrived" in page.text_content("#applied")
    shot(page, "2-thanks")

    page.goto(f"{site}/login?next=/admin/applications")
    page.fill("#email", "ops@handoff.example")
    page.fill("#password", PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(f"{site}/admin/applications")
    row = page.locator("#applications tbody tr").first
    assert "Fabrikam Reviews GmbH" in row.text_content() and "pending" in row.text_content()
    shot(page, "3-list")
    row.locator("a", has_text="Decide").click()
    page.wait_for_load_state()
    shot(page, "4-application")
    page.click("#approve button[type=submit]")
    page.wait_for_load_state()
    assert "Approved: partner Fabrikam Reviews GmbH" in page.text_content("#approved")
    assert page.input_value("#reset-link").startswith("http://handoff.test/password/reset/")
    shot(page, "5-approved")

    page.click(".portal-menu a[href='/admin/partners']")
    page.wait_for_url(f"{site}/admin/partners")
    partner = page.locator("#partners tbody tr", has_text="Fabrikam Reviews GmbH")
    assert "Reseller" in partner.text_content() and "DE" in partner.text_content()
    shot(page, "6-partners")
