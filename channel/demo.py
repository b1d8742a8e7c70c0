"""The demo's channel program: a product catalogue for the demo vendor and a bonus fund of 900,000 points.

Added when ``flask --app app demo`` announces the demo (tracker.program.signals.demo_created), each part only
if missing, through the same functions the API uses: the catalogue goes through the CSV importer, as a
vendor's own file would.
"""

from __future__ import annotations

from sqlalchemy import select

from channel.catalog.importer import import_products
from channel.catalog.models import ProductFamily
from channel.catalog.products import update_family
from channel.catalog.schemas import FamilyIn
from channel.points.funds import active_fund, open_fund
from core.db import db
from tracker.program.models import Offer, Partner
from tracker.program.signals import demo_created

DEMO_ACTOR = "demo"
DEMO_FAMILY = FamilyIn.model_validate({"code": "crm", "name": "Demo CRM licences", "serial_pattern": r"CRM-[0-9]{6}"})
DEMO_CATALOGUE = b"""sku,name,family,list_price,currency,points_per_unit,eligible_from
CRM-ANNUAL,"Demo CRM, annual licence",crm,1200.00,EUR,120,2026-01-01
CRM-SEAT,Demo CRM extra seat,crm,240.00,EUR,20,2026-01-01
CRM-SUPPORT,Demo CRM premium support,crm,480.00,EUR,40,2026-01-01
"""
# The model program's fund; a point is worth 0.05 EUR, so the whole fund is 45,000.00 EUR of rewards.
DEMO_FUND_POINTS, DEMO_POINT_VALUE_MINOR = 900_000, 5


def add_demo_channel(offer: Offer, *, partners: list[Partner], **_: object) -> None:
    if db.session.scalar(select(ProductFamily.id).where(ProductFamily.code == DEMO_FAMILY.code)) is None:
        family = ProductFamily(code=DEMO_FAMILY.code)
        update_family(family, DEMO_FAMILY.model_dump())
        db.session.add(family)
        db.session.flush()
    # Idempotent by SKU (unchanged rows stay as they are); it commits, with the demo created so far.
    import_products(DEMO_CATALOGUE, DEMO_ACTOR)
    if active_fund() is None:
        open_fund("Demo bonus fund", DEMO_FUND_POINTS, DEMO_POINT_VALUE_MINOR, "EUR")


def connect() -> None:
    demo_created.connect(add_demo_channel)
