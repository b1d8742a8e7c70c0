"""A channel program on 2026-11-25: a fund, two families (one with serials), a distributor with a reseller,
another reseller, a key each, and helpers that write sell-out files and upload them."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import UTC, date, datetime

import pytest
import time_machine
from sqlalchemy import func, select

from channel.catalog.models import Product, ProductFamily
from channel.points.funds import open_fund
from channel.points.models import PointsEntry, PointsFund
from channel.sellout.rows import COLUMNS
from core.db import db
from tests.factories import PartnerFactory, auth, expect
from tracker.program.models import Partner

TODAY = date(2026, 11, 25)
JOINED = datetime(2026, 1, 1, tzinfo=UTC)
UPLOADS = "/api/v1/sellout/uploads"


@dataclass
class Program:
    fund: PointsFund
    distributor: Partner
    reseller: Partner  # the distributor's
    other: Partner  # nobody's
    router: Product  # 10 points a unit, 199.90 EUR, no serials
    switch: Product  # 25 points a unit, 500.00 EUR, serials SW + 6 digits
    keys: dict[str, dict[str, str]]

    def row(self, **fields) -> dict[str, str]:
        base = {
            "partner_key": str(self.reseller.id),
            "distributor_key": str(self.distributor.id),
            "invoice_number": "INV-1",
            "invoice_date": "2026-11-20",
            "line_number": "1",
            "sku": "RT-100",
            "quantity": "2",
            "unit_price": "190.00",
            "currency": "EUR",
            "customer_name": "Example GmbH",
            "ship_to_country": "DE",
            "ship_to_postcode": "10115",
            "customer_tax_id": "DE136695976",
        }
        return base | {name: str(value) for name, value in fields.items()}


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(datetime(2026, 11, 25, 12, 0, tzinfo=UTC), tick=False):
        yield


@pytest.fixture
def program(app) -> Program:
    fund = open_fund("Loyalty 2026", 900_000, 50, "EUR")
    routers = ProductFamily(code="routers", name="Routers")
    switches = ProductFamily(code="switches", name="Switches", serial_pattern=r"SW\d{6}")
    router = Product(
        sku="RT-100",
        name="Router",
        family=routers,
        list_price_minor=19990,
        currency="EUR",
        points_per_unit=10,
        eligible_from=date(2026, 1, 1),
        updated_by="test",
    )
    switch = Product(
        sku="SW-8",
        name="Switch",
        family=switches,
        list_price_minor=50000,
        currency="EUR",
        points_per_unit=25,
        eligible_from=date(2026, 1, 1),
        updated_by="test",
    )
    db.session.add_all([router, switch])
    db.session.commit()
    distributor = PartnerFactory(kind="distributor", created_at=JOINED)
    reseller = PartnerFactory(kind="reseller", parent_id=distributor.id, created_at=JOINED)
    other = PartnerFactory(kind="reseller", created_at=JOINED)
    keys = {
        "admin": auth("admin"),
        "reseller": auth("partner", partner_id=reseller.id),
        "distributor": auth("partner", partner_id=distributor.id),
        "other": auth("partner", partner_id=other.id),
        "finance": auth("finance"),
    }
    return Program(fund, distributor, reseller, other, router, switch, keys)


def csv_bytes(*rows: dict[str, str], columns=COLUMNS) -> bytes:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(columns), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue().encode()


def upload(client, headers, data: bytes, name: str = "sellout.csv"):
    form = {"file": (io.BytesIO(data), name)}
    return client.post(UPLOADS, data=form, headers=headers, content_type="multipart/form-data")


def preview(client, headers, *rows, status=201):
    return expect(upload(client, headers, csv_bytes(*rows)), status)


def commit(client, headers, upload_id, status=200):
    return expect(client.post(f"{UPLOADS}/{upload_id}/commit", headers=headers), status)


def book(client, headers, *rows):
    return commit(client, headers, preview(client, headers, *rows)["id"])


def reasons(answer) -> dict[int, str]:
    return {item["row"]: item["reason"] for item in answer["rejected"]}


def points_of(partner: Partner) -> int:
    total = db.session.scalar(
        select(func.coalesce(func.sum(PointsEntry.points), 0)).where(PointsEntry.partner_id == partner.id)
    )
    return int(total)
