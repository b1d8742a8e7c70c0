"""A partner builds a link and copies it, takes banner code carrying that link, reads its dashboard and tries a
private postback URL, in a real browser (Debian's Chromium through Playwright). Another partner's link appears
nowhere.

Screenshots of each step go to tests/artifacts/screens/ (not committed).
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from core.db import db, utcnow
from tests.browser import screenshot, signed_in_page
from tests.core.people.conftest import cheap_hashes, compiled_catalogues, fresh_request_globals  # noqa: F401
from tests.core.people.helpers import make_person
from tests.factories import LinkFactory, OfferFactory, PartnerFactory
from tests.tracker.stats.test_pages import add_click, add_conversion
from tracker.creatives.files import add_sample_banners
from tracker.program.models import Link

pytestmark = pytest.mark.usefixtures("compiled_catalogues")


def shot(page, name: str) -> None:
    screenshot(page, f"partner-portal-{name}")


def program():
    """The demo offer with its sample banners, and another partner already promoting it with traffic."""
    offer = OfferFactory(slug="demo-crm", name="Demo CRM")
    add_sample_banners(offer, created_by="test")
    theirs = LinkFactory(code="theirs01", offer=offer)
    add_click(theirs, utcnow() - timedelta(hours=2))
    db.session.commit()
    return offer


@pytest.mark.parametrize("app", ["sqlite"], indirect=True)
def test_a_partner_builds_a_link_copies_it_and_embeds_a_banner(app, browser, site):
    offer = program()
    partner = PartnerFactory(name="Fabrikam Reviews")
    make_person("partner", email="ana@fabrikam.example", partner_id=partner.id)
    page = signed_in_page(browser, site, "ana@fabrikam.example", permissions=["clipboard-read", "clipboard-write"])

    page.click(".portal-menu >> text=Links")
    page.wait_for_url(f"{site}/portal/links")
    page.select_option("#offer_id", str(offer.id))
    page.fill("#sub1", "newsletter")
    page.fill("#deep_link", "https://evil.example/")
    page.click("#build-link button[type=submit]")
    page.wait_for_load_state()
    assert "is not one of this offer's allowed hosts" in page.text_content("#deep_link-error")
    shot(page, "1-links-refused")
    page.fill("#deep_link", "https://docs.example/setup")
    page.click("#build-link button[type=submit]")
    page.wait_for_url(f"{site}/portal/links?link=*")
    link = db.session.query(Link).filter(Link.partner_id == partner.id).one()
    url = page.input_value("#created-url")
    assert url.endswith(f"/c/{link.code}?to=https%3A%2F%2Fdocs.example%2Fsetup")
    page.click("#copy-created-url")
    page.wait_for_function("document.getElementById('copy-created-url').textContent === 'Copied'")
    assert page.evaluate("navigator.clipboard.readText()") == url
    assert "theirs01" not in page.content()
    listed = page.locator(f"#url-{link.id}")
    assert listed.input_value().endswith(f"/c/{link.code}")
    assert listed.evaluate("field => field.scrollWidth <= field.clientWidth")  # the whole URL in view
    shot(page, "2-link-copied")

    page.click(".portal-menu >> text=Banners")
    page.wait_for_url(f"{site}/portal/banners")
    page.fill("#sub2", "sidebar")
    page.click("#banner-subs button[type=submit]")
    page.wait_for_url(f"{site}/portal/banners?*")
    embed = page.locator(".embed-html").first.input_value()
    assert f"/c/{link.code}?sub2=sidebar" in embed and "<img src=" in embed
    assert page.locator(".banner").count() == 4
    assert page.evaluate("Array.from(document.images).every(function (i) { return i.naturalWidth > 0; })")
    assert "theirs01" not in page.content()
    tall = page.locator(".banner", has_text="160 × 600 px")
    assert tall.locator(".caption").text_content().split() == ["Demo", "CRM", "·", "160", "×", "600", "px"]
    # The tall banner whole (no scrolling box), and each embed code whole in its field.
    assert tall.locator(".preview img").evaluate("img => img.getBoundingClientRect().height") == 600
    assert tall.locator(".preview").evaluate("box => box.scrollHeight <= box.clientHeight")
    assert page.evaluate(
        "Array.from(document.querySelectorAll('.banner textarea')).every(function (t) {"
        " return t.scrollHeight <= t.clientHeight; })"
    )
    shot(page, "3-banners")

    add_conversion(add_click(link, utcnow() - timedelta(days=2)), "lead", utcnow() - timedelta(days=2))
    add_click(link, utcnow() - timedelta(days=1))
    page.click(".portal-menu >> text=Dashboard")
    page.wait_for_url(f"{site}/portal/dashboard")
    assert page.text_content("#clicks") == "2" and page.text_content("#leads") == "1"
    assert page.text_content("#lead-rate") == "50.0%"
    assert page.is_visible(".daily-chart svg") and page.locator("#daily tbody tr").count() == 30
    assert not page.is_visible("#daily")  # folded under its summary
    assert (
        page.locator(".daily-chart .scale text").last.text_content()
        == page.locator("#daily td").first.text_content().split(", ")[-1]
    )
    shot(page, "4-dashboard")
    page.click("details.daily-numbers summary")
    assert page.is_visible("#daily")

    page.click(".portal-menu >> text=Postback")
    page.wait_for_url(f"{site}/portal/postback")
    page.fill("#url_template", "http://127.0.0.1:8080/postback?click={click_id}")
    page.click("#postback-form button[type=submit]")
    page.wait_for_load_state()
    assert "public hosts only" in page.text_content("#url_template-error")  # as PUT /api/v1/postback refuses it
    shot(page, "5-postback-refused")
