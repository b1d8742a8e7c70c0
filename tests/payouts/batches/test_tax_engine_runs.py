"""A batch line runs the tax engine once: its own quote also answers whether the partner can be paid."""

from __future__ import annotations

from decimal import Decimal

import pytest

from payouts.batches import lifecycle
from payouts.batches.lifecycle import create_batch
from payouts.tax import profiles
from tests.payouts.batches.test_batches import JULY, PAYDAY, W8BEN, approve_all, by_partner, give_profile
from tests.payouts.ledger_helpers import running_program


@pytest.fixture
def program(app):
    yield from running_program(app)


@pytest.fixture
def quoted(monkeypatch) -> list[Decimal]:
    """The amount of every quote the engine is asked for, wherever it is asked."""
    amounts: list[Decimal] = []
    real = lifecycle.quote

    def counting(regime_code, amount, **arguments):
        amounts.append(amount)
        return real(regime_code, amount, **arguments)

    monkeypatch.setattr(lifecycle, "quote", counting)
    monkeypatch.setattr(profiles, "quote", counting)
    return amounts


def test_each_priced_line_is_quoted_once_and_a_line_without_a_profile_not_at_all(program, quoted):
    give_profile(program.plain)
    expired = {"regime_code": "us_foreign_w8", "regime_inputs": {"services_abroad": False}, "forms": [W8BEN]}
    give_profile(program.gold, country="DE", tax_resident=False, **expired)
    program.convert("P-1", amount="1250000.00", coupon="PLAIN")  # 100,000.00 RUB
    program.convert("G-1", amount="1000.00", coupon="GOLD")  # 100.00 RUB
    program.convert("S-1", amount="1000.00")  # the reseller and its distributor have no profiles
    approve_all(program)
    lines = by_partner(create_batch(JULY, "RUB", PAYDAY, 0, "test"))
    assert sorted(quoted) == [Decimal("100.00"), Decimal("100000.00")]
    assert (lines[program.plain.id].status, lines[program.plain.id].net_minor) == ("payable", 8700000)
    assert lines[program.gold.id].held_reason == "the W-8BEN on file expired on 2028-12-31; collect a new one"
    assert lines[program.reseller.id].held_reason == "the partner has no tax profile"


def test_a_line_under_the_minimum_is_only_asked_whether_it_could_be_paid(program, quoted):
    give_profile(program.reseller)
    program.convert("S-1", amount="1000.00")  # 80.00 RUB
    approve_all(program)
    line = by_partner(create_batch(JULY, "RUB", PAYDAY, 100000, "test"))[program.reseller.id]
    assert quoted == [Decimal(0)]
    assert line.held_reason == "under the minimum payout of 1000.00 RUB (owed 80.00); carried over"
