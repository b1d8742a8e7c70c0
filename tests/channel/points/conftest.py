"""A program with a bonus fund and two partner companies, the clock at T0."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from channel.points.balances import PointsBalance, balance
from channel.points.funds import open_fund
from channel.points.models import PointsFund
from core.db import db
from tests.factories import PartnerFactory
from tracker.program.models import Partner

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
BUDGET = 900_000
POINT_VALUE_MINOR = 50  # one point = 0.50 RUB


@dataclass
class Points:
    fund: PointsFund
    acme: Partner
    other: Partner

    def balance(self, partner: Partner | None = None, person_id: int | None = None) -> PointsBalance:
        return balance((partner or self.acme).id, person_id)


@pytest.fixture
def points(app) -> Points:
    fund = open_fund("Loyalty 2026", BUDGET, POINT_VALUE_MINOR, "RUB")
    db.session.commit()
    return Points(fund, PartnerFactory(name="Acme Reseller"), PartnerFactory(name="Other Reseller"))


def after(days: float) -> datetime:
    return T0 + timedelta(days=days)
