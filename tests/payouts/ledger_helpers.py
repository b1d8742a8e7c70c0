"""The ledger tests' program: the issue's plan, partners with coupons, keys, and API shortcuts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import time_machine

from core.db import db
from tests.factories import OfferFactory, PartnerFactory, auth, post_conversion
from tracker.attribution.models import Coupon

T0 = datetime(2031, 6, 10, 9, 0, tzinfo=UTC)
HOLD = timedelta(days=30)
# The issue: 50 RUB per lead and 8% of each sale, 10% for "gold", 12% past 1,000,000 RUB of sales in a
# month, at most 200 paid leads a month, and 1% of every reseller's sales to its distributor.
ISSUE_PLAN = {
    "currency": "RUB",
    "events": {
        "lead": {"flat": "50.00", "cap": {"period": "month", "count": 200}},
        "sale": {
            "percent": "8",
            "by_tier": {"gold": {"percent": "10"}},
            "volume_tiers": {
                "measure": "amount",
                "period": "month",
                "steps": [{"from": "1000000.00", "percent": "12"}],
            },
        },
    },
    "parent_override": {"percent": "1", "of": "sale", "events": ["sale"]},
}


class Program:
    """One offer with the issue's partners, a coupon each (coupons attribute without clicks), and keys."""

    def __init__(self, app):
        self.client = app.test_client()
        self.offer = OfferFactory(slug="suite", hold_days=30)
        self.distributor = PartnerFactory(kind="distributor")
        self.reseller = PartnerFactory(kind="reseller", parent_id=self.distributor.id)
        self.gold = PartnerFactory(tier="gold")
        self.plain = PartnerFactory()
        for code, partner in (("RES", self.reseller), ("GOLD", self.gold), ("PLAIN", self.plain)):
            db.session.add(Coupon(code=code, partner_id=partner.id, offer_id=self.offer.id))
        db.session.commit()
        self.admin, self.finance = auth("admin"), auth("finance")
        self.vendor = auth("advertiser", advertiser_id=self.offer.advertiser_id)

    def set_plan(self, plan, headers=None):
        return self.client.put(
            f"/api/v1/offers/{self.offer.id}/commission-plan", json={"plan": plan}, headers=headers or self.admin
        )

    def convert(self, order_id, event="sale", amount=None, coupon="RES", **extra):
        money = {"amount": amount, "currency": "RUB"} if amount else {}
        response = post_conversion(
            self.client, self.vendor, offer="suite", event=event, order_id=order_id, coupon=coupon, **money, **extra
        )
        assert response.status_code == 201, response.json
        return response.json["id"]

    def decide(self, conversion_id, action):
        response = self.client.post(
            f"/api/v1/conversions/{conversion_id}/{action}", json={"reason": "CRM"}, headers=self.vendor
        )
        assert response.status_code == 200, response.json

    def commissions(self, headers=None, **query):
        response = self.client.get("/api/v1/commissions", query_string=query, headers=headers or self.admin)
        assert response.status_code == 200, response.json
        return response.json["items"]

    def owed(self, partner, **query):
        """(amount, status) of a partner's commissions, oldest first."""
        return [(c["amount"], c["status"]) for c in reversed(self.commissions(partner_id=partner.id, **query))]

    def balance(self, partner):
        items = self.client.get("/api/v1/balances", query_string={"partner_id": partner.id}, headers=self.finance).json[
            "items"
        ]
        return {k: v for k, v in items[0].items() if k not in ("partner_id", "currency")} if items else {}

    def approve_due(self):
        return self.client.application.test_cli_runner().invoke(args=["payouts", "approve-due"]).output.strip()


def running_program(app):
    """The issue's plan on a fresh program, with the clock frozen at T0 for the whole test."""
    with time_machine.travel(T0, tick=False):
        program = Program(app)
        assert program.set_plan(ISSUE_PLAN).status_code == 200
        yield program
