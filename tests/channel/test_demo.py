"""The demo's channel program: the vendor's catalogue and the 900,000-point bonus fund, once however often it runs."""

from __future__ import annotations

import json

from sqlalchemy import func, select

from channel.catalog.models import Product, ProductFamily
from channel.points.funds import active_fund, fund_report
from channel.points.models import PointsFund
from channel.sellout.models import SelloutUpload
from core.db import db


def run_demo(app) -> dict:
    result = app.test_cli_runner().invoke(args=["demo", "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_the_demo_has_a_catalogue_and_a_bonus_fund(app):
    run_demo(app)
    skus = set(db.session.scalars(select(Product.sku)))
    assert skus == {"CRM-ANNUAL", "CRM-SEAT", "CRM-SUPPORT"}
    fund = active_fund()
    assert fund is not None and fund.budget_points == 900_000
    upload = db.session.scalar(select(SelloutUpload))
    assert (upload.state, upload.rows_read, upload.rejected) == ("committed", 3, 0)
    report = fund_report(fund)
    # 120 points for the licence, 5 seats at 20, 2 support contracts at 40: pending through the return window.
    assert (report.drawn, report.pending, report.left) == (300, 300, 899_700)


def test_running_the_demo_again_adds_nothing_twice(app):
    run_demo(app)
    run_demo(app)
    assert (count(ProductFamily), count(Product), count(PointsFund), count(SelloutUpload)) == (2, 3, 1, 1)
