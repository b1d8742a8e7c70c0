"""The demo shows the whole flow: a click, the landing page's signed sale, its commission, and a payout batch."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

from sqlalchemy import func, select

from core.db import db
from payouts.commissions.models import CommissionPlan
from payouts.tax.models import TaxProfile
from tests.tracker.helpers import CHROME

T0 = datetime(2031, 2, 3, 10, 0, tzinfo=UTC)


def run_demo(app) -> dict:
    result = app.test_cli_runner().invoke(args=["demo", "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_a_demo_sale_is_paid_in_a_batch_the_same_day(app, time_machine):
    time_machine.move_to(T0, tick=False)
    summary = run_demo(app)
    assert db.session.scalar(select(func.count()).select_from(TaxProfile)) == 3
    client = app.test_client()
    location = client.get("/c/demo-aff", headers={"User-Agent": CHROME}).headers["Location"]
    html = client.get(location.removeprefix(summary["base_url"])).get_data(as_text=True)
    sale = r"event: 'sale', order_id: '(DEMO-[0-9a-f]+)', amount: '([0-9.]+)', currency: '([A-Z]{3})'"
    order_id, amount, currency, sig = re.search(sale + r", sig: '([0-9a-f]{64})'", html).groups()
    token = parse_qs(urlsplit(location).query)["atk"][0]
    time_machine.move_to(T0 + timedelta(minutes=5), tick=False)
    query = {"event": "sale", "order_id": order_id, "amount": amount, "currency": currency, "sig": sig, "atk": token}
    assert client.get("/p/demo-crm.gif", query_string=query).status_code == 200
    time_machine.move_to(T0 + timedelta(minutes=6), tick=False)
    assert "approved 1 commission" in app.test_cli_runner().invoke(args=["payouts", "approve-due"]).output
    finance = {"Authorization": f"Bearer {summary['keys']['finance']}"}
    batch = client.post("/api/v1/payout-batches", headers=finance, json={"period_end": "2031-02-03", "currency": "EUR"})
    assert batch.status_code == 201, batch.json
    (line,) = batch.json["lines"]
    fabrikam = next(p for p in summary["partners"] if p["link_code"] == "demo-aff")
    assert (line["partner_id"], line["gross"]) == (fabrikam["id"], "120.00")  # 10% of the 1,200.00 licence


def test_running_the_demo_again_keeps_one_plan_and_one_profile_each(app):
    run_demo(app)
    plan = db.session.scalar(select(CommissionPlan))
    plan.plan = {"currency": "EUR", "events": {"sale": {"percent": "15"}}}
    db.session.commit()
    run_demo(app)
    assert db.session.scalar(select(func.count()).select_from(CommissionPlan)) == 1
    assert db.session.scalar(select(CommissionPlan.plan))["events"]["sale"]["percent"] == "15"  # an edit is kept
    assert db.session.scalar(select(func.count()).select_from(TaxProfile)) == 3
