"""Signing in, switching to Russian and signing out in a real browser (Debian's Chromium through Playwright).

Screenshots of each step go to tests/artifacts/screens/ (not committed).
"""

from __future__ import annotations

import pytest

from tests.browser import screenshot
from tests.core.people.helpers import PASSWORD, make_person
from tests.factories import LinkFactory, PartnerFactory
from tests.tracker.helpers import CHROME

pytestmark = pytest.mark.usefixtures("compiled_catalogues")


def shot(page, name: str) -> None:
    screenshot(page, f"people-{name}")


@pytest.mark.parametrize("app", ["sqlite"], indirect=True)
def test_a_partner_signs_in_switches_to_russian_and_signs_out(browser, site):
    partner = PartnerFactory(name="Fabrikam Reviews")
    LinkFactory(partner=partner)
    make_person("partner", email="anna@fabrikam.example", partner_id=partner.id)
    page = browser.new_context(user_agent=CHROME, locale="en-GB").new_page()

    page.goto(f"{site}/portal")
    assert page.url == f"{site}/login"
    page.fill("#email", "anna@fabrikam.example")
    page.fill("#password", "not the password")
    page.click("form[action='/login'] button[type=submit]")
    assert "The email or password is wrong" in page.text_content("#login-refused")
    shot(page, "1-login-refused")

    page.fill("#password", PASSWORD)
    page.keyboard.press("Enter")  # the form works from the keyboard
    page.wait_for_url(f"{site}/portal")
    assert page.text_content("#person-email") == "anna@fabrikam.example"
    assert f"Fabrikam Reviews (#{partner.id})" in page.text_content("#person-organisation")
    shot(page, "2-portal")

    page.click("button[name=lang][value=ru]")
    page.wait_for_load_state()
    assert page.url == f"{site}/portal"
    assert page.text_content("#person-role") == "Партнёр"
    assert page.get_attribute("html", "lang") == "ru"
    assert "Выйти" in page.text_content("header")
    shot(page, "3-portal-ru")

    page.click("form[action='/logout'] button")
    page.wait_for_url(f"{site}/login")
    assert page.text_content("h1") == "Войти"
    assert [c["name"] for c in page.context.cookies() if c["name"] == "handoff_session"] == []
    shot(page, "4-signed-out-ru")

    page.goto(f"{site}/portal")
    assert page.url == f"{site}/login"


@pytest.mark.parametrize("app", ["sqlite"], indirect=True)
def test_the_existing_pages_keep_their_look(browser, site):
    LinkFactory(code="demo-look")
    page = browser.new_context(user_agent=CHROME).new_page()
    page.goto(f"{site}/")
    assert page.evaluate("getComputedStyle(document.querySelector('.card')).borderRadius") == "10px"
    shot(page, "5-overview")
    page.goto(f"{site}/demo/landing")
    assert page.evaluate("getComputedStyle(document.querySelector('header')).display") == "flex"
    shot(page, "5-demo-landing")
    page.goto(f"{site}/password/forgot")
    shot(page, "6-forgot")
