"""A reseller reports its month's sales in a real browser: upload the CSV, read the rejected rows and their
reasons, commit, and find the points on its points page. Screenshots go to tests/artifacts/screens/."""

from __future__ import annotations

from datetime import timedelta

import pytest

from channel.catalog.models import Product, ProductFamily
from channel.points.funds import open_fund
from core.db import db, utcnow
from tests.browser import screenshot, signed_in_page
from tests.channel.sellout.conftest import csv_bytes
from tests.core.people.conftest import cheap_hashes, compiled_catalogues, fresh_request_globals  # noqa: F401
from tests.core.people.helpers import make_person
from tests.factories import PartnerFactory

pytestmark = pytest.mark.usefixtures("compiled_catalogues")


def programme() -> tuple[int, int]:
    """A fund, a router worth 10 points a unit, a distributor and its reseller: (reseller id, distributor id)."""
    open_fund("Loyalty", 900_000, 50, "EUR")
    joined = utcnow() - timedelta(days=200)
    router = Product(
        sku="RT-100",
        name="Router 100",
        family=ProductFamily(code="routers", name="Routers"),
        list_price_minor=19990,
        currency="EUR",
        points_per_unit=10,
        eligible_from=joined.date(),
        updated_by="test",
    )
    db.session.add(router)
    distributor = PartnerFactory(kind="distributor", name="Big Distribution", created_at=joined)
    reseller = PartnerFactory(kind="reseller", name="Acme Reseller", parent_id=distributor.id, created_at=joined)
    db.session.commit()
    return reseller.id, distributor.id


def month_file(reseller_id: int, distributor_id: int) -> bytes:
    day = (utcnow() - timedelta(days=5)).date().isoformat()
    base = {
        "partner_key": str(reseller_id),
        "distributor_key": str(distributor_id),
        "invoice_number": "INV-100",
        "invoice_date": day,
        "line_number": "1",
        "sku": "RT-100",
        "quantity": "3",
        "unit_price": "189.00",
        "currency": "EUR",
        "customer_name": "Example GmbH",
        "ship_to_country": "DE",
        "ship_to_postcode": "10115",
    }
    return csv_bytes(
        base,
        base | {"line_number": "2", "quantity": "2"},
        base | {"line_number": "3", "sku": "XX-9"},
        base | {"invoice_number": "inv 100"},  # line 1 again, spelled otherwise
    )


@pytest.mark.parametrize("app", ["sqlite"], indirect=True)
def test_a_reseller_uploads_its_month_commits_and_sees_its_points(app, browser, site):
    reseller_id, distributor_id = programme()
    make_person("partner", email="boss@acme.example", partner_id=reseller_id)
    page = signed_in_page(browser, site, "boss@acme.example")
    page.click("nav.portal-menu >> text=Sell-out")
    page.wait_for_url(f"{site}/portal/sellout")
    assert page.locator("#no-uploads").is_visible()
    file = {"name": "acme-month.csv", "mimeType": "text/csv", "buffer": month_file(reseller_id, distributor_id)}
    page.set_input_files("#file", file)
    screenshot(page, "sellout-1-upload")
    page.click("#upload button[type=submit]")
    page.wait_for_url(f"{site}/portal/sellout/*")
    assert page.text_content("#rows-read") == "4" and page.text_content("#rows-accepted") == "2"
    assert "SKU XX-9 is not in the catalogue" in page.text_content("#rejected-4")
    assert "the same line as row 2" in page.text_content("#duplicate-5")
    assert page.text_content("#points-total") == "50"
    screenshot(page, "sellout-2-preview")

    page.click("#commit button[type=submit]")
    page.wait_for_url("**?done=committed")
    assert "The upload is committed" in page.text_content("#done")
    assert page.text_content("#points-booked") == "50"
    screenshot(page, "sellout-3-committed")
    page.click("nav.portal-menu >> text=Sell-out")
    assert "acme-month.csv" in page.text_content("#uploads")
    screenshot(page, "sellout-4-list")
    page.click("nav.portal-menu >> text=Points")
    page.wait_for_url(f"{site}/portal/points")
    assert page.text_content("#pending") == "50"
    screenshot(page, "sellout-5-points")
