"""The demo's channel program: the vendor's catalogue, a bonus fund of 900,000 points, and one committed
sell-out upload of the demo reseller (reported through its distributor), whose points wait out the return window.

Added when ``flask --app app demo`` announces the demo (tracker.program.signals.demo_created), each part only
if missing, through the same functions the API uses: the catalogue goes through the CSV importer and the
sell-out through preview and commit, as a vendor's and a partner's own files would.
"""

from __future__ import annotations

import csv
import io
from datetime import date

from sqlalchemy import select

from channel.catalog.importer import import_products
from channel.catalog.models import ProductFamily
from channel.catalog.products import update_family
from channel.catalog.schemas import FamilyIn
from channel.points.funds import active_fund, open_fund
from channel.sellout.booking import commit_upload, lock_upload
from channel.sellout.models import SelloutUpload
from channel.sellout.preview import preview_upload
from channel.sellout.rows import COLUMNS
from core.db import db, utcnow
from tracker.program.models import Offer, Partner
from tracker.program.signals import demo_created

DEMO_ACTOR = "demo"
# Licences carry a serial (one unit a row); seats and support contracts are counted, not serialised.
DEMO_FAMILIES = (
    FamilyIn.model_validate({"code": "crm", "name": "Demo CRM licences", "serial_pattern": r"CRM-[0-9]{6}"}),
    FamilyIn.model_validate({"code": "crm-services", "name": "Demo CRM seats and services"}),
)
DEMO_CATALOGUE = b"""sku,name,family,list_price,currency,points_per_unit,eligible_from
CRM-ANNUAL,"Demo CRM, annual licence",crm,1200.00,EUR,120,2026-01-01
CRM-SEAT,Demo CRM extra seat,crm-services,240.00,EUR,20,2026-01-01
CRM-SUPPORT,Demo CRM premium support,crm-services,480.00,EUR,40,2026-01-01
"""
# The model program's fund; a point is worth 0.05 EUR, so the whole fund is 45,000.00 EUR of rewards.
DEMO_FUND_POINTS, DEMO_POINT_VALUE_MINOR = 900_000, 5


def _demo_sellout(reseller: Partner, today: date) -> bytes:
    """The reseller's sell-out of today (the demo partners are created today: an earlier invoice would precede
    their authorization), one line with a serial, in the template's columns."""
    lines = [
        ("DEMO-INV-1", 1, "CRM-ANNUAL", 1, "1200.00", "Anna Schmidt GmbH", "CRM-000001"),
        ("DEMO-INV-1", 2, "CRM-SEAT", 5, "240.00", "Anna Schmidt GmbH", ""),
        ("DEMO-INV-2", 1, "CRM-SUPPORT", 2, "470.00", "Fabrikam SARL", ""),
    ]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for invoice, line, sku, quantity, price, customer, serial in lines:
        values = {
            "partner_key": reseller.id,
            "distributor_key": reseller.parent_id or "",
            "invoice_number": invoice,
            "invoice_date": today.isoformat(),
            "line_number": line,
            "sku": sku,
            "quantity": quantity,
            "unit_price": price,
            "currency": "EUR",
            "customer_name": customer,
            "ship_to_country": "DE",
            "ship_to_postcode": "10115",
            "serial": serial,
        }
        writer.writerow([values.get(column, "") for column in COLUMNS])
    return out.getvalue().encode()


def _book_demo_sellout(partners: list[Partner]) -> None:
    reseller = next((partner for partner in partners if partner.kind == "reseller"), None)
    if reseller is None:
        return
    booked = select(SelloutUpload.id).where(
        SelloutUpload.uploader_partner_id == reseller.id, SelloutUpload.state == "committed"
    )
    if db.session.scalar(booked.limit(1)) is not None:
        return
    upload = preview_upload(_demo_sellout(reseller, utcnow().date()), "demo-sellout.csv", reseller, DEMO_ACTOR)
    commit_upload(lock_upload(upload.id) or upload, DEMO_ACTOR)


def add_demo_channel(offer: Offer, *, partners: list[Partner], **_: object) -> None:
    for wanted in DEMO_FAMILIES:
        if db.session.scalar(select(ProductFamily.id).where(ProductFamily.code == wanted.code)) is None:
            family = ProductFamily(code=wanted.code)
            update_family(family, wanted.model_dump())
            db.session.add(family)
            db.session.flush()
    # Idempotent by SKU (unchanged rows stay as they are); it commits, with the demo created so far.
    import_products(DEMO_CATALOGUE, DEMO_ACTOR)
    if active_fund() is None:
        open_fund("Demo bonus fund", DEMO_FUND_POINTS, DEMO_POINT_VALUE_MINOR, "EUR")
    _book_demo_sellout(partners)


def connect() -> None:
    demo_created.connect(add_demo_channel)
