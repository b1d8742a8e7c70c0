"""Which conversions' commissions become payable: approved ones, or pending ones from a source the offer trusts.

The pixel is a URL anyone can fire with any amount; a partner that clicks its own link and fires it must
not be paid for it unless the advertiser approves the conversion or signed the pixel.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import date, timedelta

import pytest
import time_machine
from sqlalchemy import select

from core.db import db
from payouts.batches.lifecycle import BatchError, create_batch
from payouts.ledger.entries import approve_due
from payouts.ledger.models import LedgerEntry
from tests.factories import LinkFactory
from tests.payouts.batches.test_batches import give_profile
from tests.payouts.ledger_helpers import HOLD, ISSUE_PLAN, T0, Program
from tests.tracker.attribution.test_conversions import token_from
from tests.tracker.helpers import click
from tracker.attribution.models import Conversion

JULY = date(2031, 7, 31)


@pytest.fixture
def program(app):
    with time_machine.travel(T0, tick=False):
        program = Program(app)
        assert program.set_plan(ISSUE_PLAN).status_code == 200
        yield program


def set_offer(program, **values) -> None:
    for name, value in values.items():
        setattr(program.offer, name, value)
    db.session.commit()


def self_click_token(program, code="self-1") -> str:
    LinkFactory(code=code, partner=program.plain, offer=program.offer)
    with time_machine.travel(T0 - timedelta(minutes=5), tick=False):  # not too fast after the click
        return token_from(click(program.client, code))


def fire(program, query: str) -> None:
    response = program.client.get(f"/p/suite.gif?{query}")
    assert response.status_code == 200 and response.mimetype == "image/gif"


def signed(secret: str, event: str, order_id: str, amount: str, currency: str) -> str:
    # The formula as the README documents it, written out here rather than taken from the app.
    message = f"suite|{event}|{order_id}|{amount}|{currency}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def approvals() -> list[tuple[int, str]]:
    return [
        (entry.conversion_id, entry.reason)
        for entry in db.session.scalars(select(LedgerEntry).where(LedgerEntry.kind == "approved"))
    ]


def test_a_partner_firing_its_own_pixel_is_paid_nothing(program):
    set_offer(program, hold_days=0)
    give_profile(program.plain)
    token = self_click_token(program)
    for number in (1, 2, 3):
        fire(program, f"event=sale&order_id=X-{number}&amount=999999.00&currency=RUB&atk={token}")
    conversions = db.session.scalars(select(Conversion).order_by(Conversion.id)).all()
    assert [(c.partner_id, c.status, c.review_reasons) for c in conversions] == [
        (program.plain.id, "review", ["unsigned_pixel"])
    ] * 3
    # The commissions accrued with no hold, and still nothing becomes payable.
    # 8% twice, then 12% past the plan's monthly volume step.
    assert program.owed(program.plain) == [("79999.92", "pending")] * 2 + [("119999.88", "pending")]
    with time_machine.travel(T0 + timedelta(days=1), tick=False):
        assert program.approve_due() == "approved 0 commissions"
        assert program.balance(program.plain)["payable"] == "0.00"
        with pytest.raises(BatchError, match="nothing approved and unpaid"):
            create_batch(JULY, "RUB", date(2031, 8, 5), 0, "test")


def test_a_signed_pixel_is_trusted_and_paid_after_the_hold(program):
    set_offer(program, pixel_signing=True)
    token = self_click_token(program)
    sig = signed(program.offer.pixel_secret, "sale", "S-1", "1000.00", "RUB")
    fire(program, f"event=sale&order_id=S-1&amount=1000.00&currency=RUB&atk={token}&sig={sig}")
    conversion = db.session.scalar(select(Conversion))
    assert (conversion.source, conversion.status, conversion.review_reasons) == ("pixel", "pending", [])
    with time_machine.travel(T0 + HOLD - timedelta(minutes=1), tick=False):
        assert approve_due() == 0
    with time_machine.travel(T0 + HOLD, tick=False):
        assert program.approve_due() == "approved 1 commission"
    assert program.owed(program.plain) == [("80.00", "approved")]
    assert approvals() == [(conversion.id, "hold period passed; trusted source pixel")]


def test_server_to_server_conversions_are_trusted_by_default(program):
    assert program.offer.trusted_channels == ["api"]
    conversion = program.convert("S-1", amount="1000.00")
    with time_machine.travel(T0 + HOLD, tick=False):
        assert program.approve_due() == "approved 2 commissions"  # the reseller's and its distributor's
    assert approvals() == [(conversion, "hold period passed; trusted source api")] * 2


@pytest.mark.parametrize("source", ["api", "pixel"])
def test_an_untrusted_sources_commission_waits_for_the_advertisers_approval(program, source):
    # The offer trusts the source when the conversion arrives (so it is pending, not in review), then stops.
    set_offer(program, trusted_channels=["api", "pixel"])
    if source == "api":
        conversion_id = program.convert("S-1", amount="1000.00", coupon="PLAIN")
    else:
        fire(program, "event=sale&order_id=S-1&amount=1000.00&currency=RUB&coupon=PLAIN")
        conversion_id = db.session.scalar(select(Conversion.id))
    assert db.session.get(Conversion, conversion_id).status == "pending"
    set_offer(program, trusted_channels=[])
    with time_machine.travel(T0 + HOLD, tick=False):
        assert approve_due() == 0
        program.decide(conversion_id, "approve")
        assert approve_due() == 1
    assert approvals() == [(conversion_id, "hold period passed; conversion approved")]


def test_an_unsigned_pixel_in_review_is_paid_once_the_advertiser_approves_it(program):
    fire(program, "event=sale&order_id=S-1&amount=1000.00&currency=RUB&coupon=PLAIN")
    conversion = db.session.scalar(select(Conversion))
    assert (conversion.status, conversion.review_reasons) == ("review", ["unsigned_pixel"])
    with time_machine.travel(T0 + HOLD, tick=False):
        assert approve_due() == 0
        program.decide(conversion.id, "approve")
        assert approve_due() == 1
    assert program.owed(program.plain) == [("80.00", "approved")]


def test_an_advertisers_approval_still_waits_for_the_hold(program):
    fire(program, "event=sale&order_id=S-1&amount=1000.00&currency=RUB&coupon=PLAIN")
    program.decide(db.session.scalar(select(Conversion.id)), "approve")
    with time_machine.travel(T0 + HOLD - timedelta(minutes=1), tick=False):
        assert approve_due() == 0
    with time_machine.travel(T0 + HOLD, tick=False):
        assert approve_due() == 1
