"""The channel program's pages in a real browser: the vendor imports a catalogue, a partner hands points to a rep,
finance reads the fund's liability. Screenshots of each step go to tests/artifacts/screens/ (not committed).
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from channel.points.funds import open_fund
from channel.points.ledger import accrue, release_due
from core.db import db, utcnow
from core.money import format_money
from tests.browser import screenshot, signed_in_page
from tests.core.people.conftest import cheap_hashes, compiled_catalogues, fresh_request_globals  # noqa: F401
from tests.core.people.helpers import make_person
from tests.factories import PartnerFactory

pytestmark = pytest.mark.usefixtures("compiled_catalogues")
CATALOGUE = (
    "sku,name,family,list_price,currency,points_per_unit,eligible_from,eligible_to,active\n"
    "RT-100,Router 100,routers,199.90,EUR,10,2026-01-01,,true\n"
    "RT-200,Router 200,routers,299.00,EUR,15,2026-01-01,2026-12-31,\n"
    "SW-1,Switch 1,switches,50.00,EUR,3,2026-01-01,,\n"
)


def shot(page, name: str) -> None:
    screenshot(page, f"channel-{name}")


@pytest.mark.parametrize("app", ["sqlite"], indirect=True)
def test_the_vendor_imports_a_catalogue_and_sees_the_rejected_row(app, browser, site):
    make_person("advertiser", email="vendor@routers.example")
    page = signed_in_page(browser, site, "vendor@routers.example")
    page.click("nav.portal-menu >> text=Catalogue")
    page.wait_for_url(f"{site}/portal/catalog")
    page.fill("#code", "routers")
    page.fill("#name", "Routers")
    page.click("#create-family button[type=submit]")
    page.wait_for_url(f"{site}/portal/catalog?created=family#families")
    assert "Routers" in page.text_content("#family-list")

    file = {"name": "catalogue.csv", "mimeType": "text/csv", "buffer": CATALOGUE.encode()}
    page.set_input_files("#file", file)
    page.click("#import button[type=submit]")
    page.wait_for_load_state()
    report = page.text_content("#import-report")
    assert "3 rows read; 2 created, 0 updated, 0 unchanged, 1 rejected." in report
    rejected = page.text_content("#rejected-4")
    assert "SW-1" in rejected and "family 'switches' does not exist" in rejected
    assert page.locator("#products tbody tr").count() == 2
    shot(page, "1-catalogue-imported")
    page.click("button[name=lang][value=ru]")
    page.wait_for_load_state()
    assert page.text_content("h1") == "Каталог"
    shot(page, "1-catalogue-ru")


@pytest.mark.parametrize("app", ["sqlite"], indirect=True)
def test_a_partner_hands_points_to_a_rep_and_finance_sees_the_liability(app, browser, site):
    open_fund("Loyalty 2026", 900_000, 50, "RUB")
    partner = PartnerFactory(name="Acme Reseller")
    accrue(partner.id, 120, "sellout_line", 1, utcnow() - timedelta(days=20), "sell-out upload #1")
    accrue(partner.id, 30, "sellout_line", 2, utcnow() - timedelta(days=1), "sell-out upload #2")
    db.session.commit()
    release_due()
    make_person("partner", email="boss@acme.example", partner_id=partner.id)
    make_person("partner", email="rep@acme.example", partner_id=partner.id)
    make_person("finance", email="money@handoff.example")

    page = signed_in_page(browser, site, "boss@acme.example")
    page.click("nav.portal-menu >> text=Points")
    page.wait_for_url(f"{site}/portal/points")
    assert page.text_content("#available") == "120" and page.text_content("#pending") == "30"
    page.select_option("#person_id", label="rep@acme.example")
    page.fill("#points", "45")
    page.fill("#reason", "Top seller in March")
    shot(page, "2-points")
    page.click("#transfer button[type=submit]")
    page.wait_for_url(f"{site}/portal/points?handed=45*")
    assert "45 points handed to rep@acme.example." in page.text_content("#handed")
    assert page.text_content("#available") == "75" and page.text_content("#held") == "45"
    shot(page, "3-points-handed")

    finance = signed_in_page(browser, site, "money@handoff.example")
    finance.click("nav.portal-menu >> text=Bonus fund")
    finance.wait_for_url(f"{site}/portal/points-fund")
    assert finance.text_content("#liability-points") == "150"
    assert finance.text_content("#liability-money") == format_money(150 * 50, "RUB")
    shot(finance, "4-fund")
