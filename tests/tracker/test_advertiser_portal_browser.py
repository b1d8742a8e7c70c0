"""An advertiser opens its offer and snippets, then approves a held conversion from the review queue, in a real
browser (Debian's Chromium through Playwright). Screenshots go to tests/artifacts/screens/ (not committed)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.browser import screenshot, signed_in_page
from tests.core.people.conftest import cheap_hashes, compiled_catalogues, fresh_request_globals  # noqa: F401
from tests.core.people.helpers import make_person
from tests.factories import OfferFactory, PartnerFactory
from tests.tracker.advertiser_portal import conversion, foreign_offer
from tracker.program.models import Advertiser

pytestmark = pytest.mark.usefixtures("compiled_catalogues")


def shot(page, name: str) -> None:
    screenshot(page, f"advertiser-{name}")


@pytest.mark.parametrize("app", ["sqlite"], indirect=True)
def line_count(page, selector: str) -> int:
    """How many lines an element's text takes on the screen."""
    script = "e => { const r = document.createRange(); r.selectNodeContents(e);"
    script += " return new Set([...r.getClientRects()].map(b => Math.round(b.top))).size; }"
    return page.eval_on_selector(selector, script)


def test_an_advertiser_opens_its_snippets_and_approves_a_held_conversion(app, browser, site):
    from core.db import db

    person = make_person("advertiser", email="growth@shop.example")
    advertiser = db.session.get(Advertiser, person.advertiser_id)
    offer = OfferFactory(advertiser=advertiser, name="Cloud CRM", slug="cloud-crm", pixel_signing=True)
    partner = PartnerFactory(name="Fabrikam Reviews")
    moment = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
    held = conversion(offer, order_id="ORDER-7731", partner_id=partner.id, occurred_at=moment)
    other = conversion(offer, order_id="ORDER-7732", review_reasons=["unsigned_pixel"], occurred_at=moment)
    rival = conversion(foreign_offer(), order_id="RIVAL-1", occurred_at=moment)

    page = signed_in_page(browser, site, "growth@shop.example")
    page.click("nav.portal-menu >> text=Offers")
    page.wait_for_url(f"{site}/portal/offers")
    assert "Rival Offer" not in page.text_content("main")
    shot(page, "1-offers")

    page.click("#offers >> text=Cloud CRM")
    page.wait_for_url(f"{site}/portal/offers/{offer.id}")
    assert 'data-offer="cloud-crm"' in page.text_content("#snippet-landing")
    assert "sig={sig}" in page.text_content("#snippet-pixel")
    assert "cloud-crm|sale|{order_id}|{amount}|{currency}" in page.text_content("#signed-message")
    assert "Bearer hk_•••••" in page.text_content("#snippet-server")
    assert page.is_visible("button.copy[data-copy=snippet-server]")
    cut = page.eval_on_selector_all(".snippet pre", "boxes => boxes.filter(b => b.scrollWidth > b.clientWidth)")
    assert cut == []  # long lines (the pixel, the curl body) wrap inside their boxes, none runs off the edge
    assert not page.is_visible("#key-note p")
    page.click("#key-note summary")
    assert page.is_visible("#key-note p") and "only a hash" in page.text_content("#key-note p")
    shot(page, "2-offer-snippets")
    page.click("#offer-banners")
    page.wait_for_url(f"{site}/portal/offers/{offer.id}/banners")
    page.set_input_files("#file", files=[{"name": "note.png", "mimeType": "image/png", "buffer": b"<html></html>"}])
    page.click("#upload-banner button[type=submit]")
    page.wait_for_load_state()
    assert "is not a PNG, JPEG, GIF or SVG image" in page.text_content("#upload-banner")
    shot(page, "2b-banner-refused")

    page.click("nav.portal-menu >> text=Review queue")
    page.wait_for_url(f"{site}/portal/review")
    queue = page.text_content("#queue")
    assert "ORDER-7731" in queue and "ORDER-7732" in queue and "RIVAL-1" not in queue
    assert "many conversions from one network" in queue and "Fabrikam Reviews" in queue
    assert line_count(page, f"#conversion-{held.id} td.offer-name") == 1
    shot(page, "3-review-queue")
    page.fill(f"#reason-{held.id}", "Order paid and delivered")
    page.click(f"#decide-{held.id} button[value=approve]")
    page.wait_for_url(f"{site}/portal/review?done=approved&id={held.id}")
    assert f"Conversion #{held.id} is now approved." in page.text_content("#decision-done")
    assert page.locator(f"#conversion-{held.id}").count() == 0
    assert page.locator(f"#conversion-{other.id}").count() == 1
    shot(page, "4-approved")

    page.click("nav.portal-menu >> text=Conversions")
    page.wait_for_url(f"{site}/portal/conversions")
    row = page.text_content(f"#conversion-{held.id}")
    assert "approved" in row and "RIVAL-1" not in page.text_content("main")
    assert page.locator(f"#conversion-{rival.id}").count() == 0
    shot(page, "5-conversions")
