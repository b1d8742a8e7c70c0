"""The demo's channel program: the vendor's catalogue and the 900,000-point bonus fund, once however often it runs."""

from __future__ import annotations

import json

from sqlalchemy import func, select

from channel.catalog.models import Product, ProductFamily
from channel.points.funds import active_fund, fund_report
from channel.points.models import PointsFund
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
    assert fund_report(fund).left == 900_000


def test_running_the_demo_again_adds_nothing_twice(app):
    run_demo(app)
    run_demo(app)
    assert (count(ProductFamily), count(Product), count(PointsFund)) == (1, 3, 1)
