"""Commission plans: every rule type, the issue's example month, rounding per currency, refusals."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime

import pytest

from core.money import to_minor
from payouts.commissions.calculation import CommissionRefused, PeriodVolume, commission_for
from payouts.commissions.rules import PlanError, parse_plan, period_start

# The issue: 50 RUB per lead and 8% of each sale, 10% for "gold", 12% once a partner passes 1,000,000 RUB
# of sales in a month, at most 200 paid leads a month, and 1% of every reseller's sales to its distributor.
ISSUE_PLAN = """{
  "currency": "RUB", "rounding": "half_up",
  "events": {
    "lead": {"flat": "50.00", "cap": {"count": 200, "period": "month"}},
    "sale": {"percent": "8", "by_tier": {"gold": {"percent": "10"}},
             "volume_tiers": {"measure": "amount", "period": "month",
                              "steps": [{"from": "1000000.00", "percent": "12"}]}}
  },
  "parent_override": {"percent": "1", "of": "sale", "events": ["sale"]}
}"""
RESELLER, DISTRIBUTOR = 7, 3


def plan_of(currency="RUB", rounding=None, parent_override=None, **events):
    data = {"currency": currency, "events": events}
    if rounding:
        data["rounding"] = rounding
    if parent_override:
        data["parent_override"] = parent_override
    return parse_plan(data)


def pay(plan, amount=None, event="sale", currency=None, partner=RESELLER, tier="standard", parent=None, **volume):
    currency = currency or plan.currency
    return commission_for(
        plan,
        event=event,
        amount_minor=None if amount is None else to_minor(amount, currency),
        currency=None if amount is None else currency,
        partner_id=partner,
        partner_tier=tier,
        period_volume=PeriodVolume(**volume),
        parent_id=parent,
    )


def paid(plan, amount=None, **kwargs):
    return pay(plan, amount, **kwargs).partner.amount_minor


# Rule types


def test_flat_pays_the_same_for_any_conversion_even_one_without_an_amount():
    plan = plan_of(lead={"flat": "50.00"})
    assert paid(plan, event="lead") == 5000
    assert paid(plan, "99999.99", event="lead") == 5000
    assert "RUB50.00 flat" in pay(plan, event="lead").partner.rule


def test_percent_of_the_amount_rounded_to_kopecks():
    result = pay(plan_of(sale={"percent": "8"}), "12345.67")
    assert result.partner.amount_minor == 98765  # 987.6536
    assert result.currency == "RUB" and result.partner.capped is False
    assert "8% of RUB12,345.67 = RUB987.65 (base rate" in result.partner.rule


def test_flat_and_percent_together_add_up():
    assert paid(plan_of(sale={"flat": "100.00", "percent": "2.5"}), "1000.00") == 12500


def test_tier_override_replaces_the_base_rate_for_that_tier_only():
    plan = plan_of(sale={"percent": "8", "by_tier": {"gold": {"percent": "10"}}})
    assert paid(plan, "1000.00", tier="gold") == 10000
    assert paid(plan, "1000.00", tier="silver") == 8000
    assert paid(plan, "1000.00", tier=None) == 8000
    assert "tier 'gold'" in pay(plan, "1000.00", tier="gold").partner.rule


def test_partner_override_beats_tier_and_volume_step():
    plan = plan_of(
        sale={
            "percent": "8",
            "by_tier": {"gold": {"percent": "10"}},
            "by_partner": {"42": {"flat": "500.00"}},
            "volume_tiers": {"measure": "count", "period": "month", "steps": [{"from": 1, "percent": "20"}]},
        }
    )
    assert paid(plan, "1000.00", partner=42, tier="gold", count=5) == 50000
    assert "partner 42's own rate" in pay(plan, "1000.00", partner=42).partner.rule
    assert paid(plan, "1000.00", partner=43, tier="gold", count=5) == 10000  # tier beats the volume step
    assert paid(plan, "1000.00", partner=43, count=5) == 20000


def test_volume_tier_by_amount_applies_to_the_whole_conversion_once_the_threshold_is_reached_before_it():
    plan = plan_of(
        sale={
            "percent": "8",
            "volume_tiers": {
                "measure": "amount",
                "period": "month",
                "steps": [{"from": "1000000.00", "percent": "12"}],
            },
        }
    )
    # The sale that crosses the threshold still earns the base rate, all of it.
    assert paid(plan, "500000.00", amount_minor=to_minor("999999.99", "RUB")) == 4000000
    assert paid(plan, "500000.00", amount_minor=to_minor("1000000.00", "RUB")) == 6000000
    assert "volume step: RUB1,000,000.00 this month" in pay(plan, "1.00", amount_minor=100000000).partner.rule


def test_volume_tier_by_count_takes_the_highest_step_reached():
    plan = plan_of(
        lead={
            "flat": "50.00",
            "volume_tiers": {
                "measure": "count",
                "period": "quarter",
                "steps": [{"from": 10, "flat": "60.00"}, {"from": 100, "flat": "70.00"}],
            },
        }
    )
    assert [paid(plan, event="lead", count=n) for n in (0, 9, 10, 99, 100, 5000)] == [
        5000,
        5000,
        6000,
        6000,
        7000,
        7000,
    ]


def test_count_cap_reached_pays_nothing_and_says_why():
    plan = plan_of(lead={"flat": "50.00", "cap": {"count": 200, "period": "month"}})
    assert paid(plan, event="lead", commission_count=199) == 5000
    result = pay(plan, event="lead", commission_count=200).partner
    assert result.amount_minor == 0 and result.capped
    assert "count cap reached" in result.cap_reason and "200" in result.cap_reason


def test_amount_cap_partly_left_pays_the_remainder_then_nothing():
    plan = plan_of(sale={"percent": "10", "cap": {"amount": "1000.00", "period": "year"}})
    assert paid(plan, "500.00", commission_minor=90000) == 5000
    partly = pay(plan, "800.00", commission_minor=95000).partner
    assert (partly.amount_minor, partly.capped) == (5000, True)
    assert "RUB50.00 left of RUB1,000.00 this year" in partly.cap_reason
    spent = pay(plan, "800.00", commission_minor=100000).partner
    assert (spent.amount_minor, spent.capped) == (0, True) and "amount cap reached" in spent.cap_reason


def test_count_and_amount_caps_together():
    plan = plan_of(sale={"percent": "10", "cap": {"count": 3, "amount": "100.00", "period": "month"}})
    assert paid(plan, "500.00", commission_count=2, commission_minor=8000) == 2000
    assert paid(plan, "500.00", commission_count=3, commission_minor=0) == 0


def test_parent_override_of_the_sale():
    plan = plan_of(sale={"percent": "8"}, parent_override={"percent": "1", "of": "sale"})
    result = pay(plan, "12345.67", parent=DISTRIBUTOR)
    assert (result.parent.partner_id, result.parent.amount_minor) == (DISTRIBUTOR, 12346)
    assert "1% of the child's sale RUB12,345.67" in result.parent.rule
    assert pay(plan, "12345.67").parent is None  # no parent, no line


def test_parent_override_of_the_commission_takes_a_share_of_what_the_child_is_paid():
    plan = plan_of(
        sale={"percent": "10", "cap": {"amount": "1000.00", "period": "month"}},
        parent_override={"percent": "20", "of": "commission"},
    )
    assert pay(plan, "1000.00", parent=DISTRIBUTOR).parent.amount_minor == 2000
    capped = pay(plan, "1000.00", parent=DISTRIBUTOR, commission_minor=95000)
    assert capped.partner.amount_minor == 5000 and capped.parent.amount_minor == 1000


def test_parent_override_of_the_sale_is_not_limited_by_the_childs_cap():
    plan = plan_of(
        sale={"percent": "10", "cap": {"count": 1, "period": "month"}}, parent_override={"percent": "1", "of": "sale"}
    )
    result = pay(plan, "1000.00", parent=DISTRIBUTOR, commission_count=1)
    assert result.partner.amount_minor == 0 and result.parent.amount_minor == 1000


def test_parent_override_only_for_the_events_it_names_and_none_without_one():
    plan = plan_of(
        lead={"flat": "50.00"},
        sale={"percent": "8"},
        parent_override={"percent": "5", "of": "commission", "events": ["sale"]},
    )
    assert pay(plan, event="lead", parent=DISTRIBUTOR).parent is None
    assert pay(plan, "100.00", parent=DISTRIBUTOR).parent.amount_minor == 40
    assert pay(plan_of(sale={"percent": "8"}), "100.00", parent=DISTRIBUTOR).parent is None


def test_an_event_without_a_rule_earns_nothing_and_says_so():
    result = pay(plan_of(sale={"percent": "8"}), event="demo_booked", parent=DISTRIBUTOR)
    assert result.partner.amount_minor == 0 and "no rule for event 'demo_booked'" in result.partner.rule
    assert result.parent is None


# The issue's plan over one month


def test_issue_example_leads_pay_50_rub_up_to_200_a_month():
    plan = parse_plan(json.loads(ISSUE_PLAN))
    earned = []
    for _ in range(205):
        count = sum(1 for amount in earned if amount)
        earned.append(paid(plan, event="lead", commission_count=count))
    assert earned[:200] == [5000] * 200 and earned[200:] == [0] * 5
    assert pay(plan, event="lead", parent=DISTRIBUTOR).parent is None  # the 1% is of sales only


def test_issue_example_sales_through_a_month_with_the_distributors_share():
    plan = parse_plan(json.loads(ISSUE_PLAN))
    before, lines = 0, []
    for amount in ("400000.00", "500000.00", "300000.00", "100000.00"):
        result = pay(plan, amount, parent=DISTRIBUTOR, count=len(lines), amount_minor=before)
        lines.append((result.partner.amount_minor, result.parent.amount_minor))
        before += to_minor(amount, "RUB")
    # 8%, 8%, 8% (the crossing sale), then 12% once 1,200,000 RUB are behind; the distributor 1% of each.
    assert lines == [(3200000, 400000), (4000000, 500000), (2400000, 300000), (1200000, 100000)]
    assert paid(plan, "100000.00", tier="gold", amount_minor=before) == 1000000  # gold's 10% wins


# Rounding to the currency's minor unit


@pytest.mark.parametrize(
    "currency, amount, percent, half_up, half_even",
    [
        ("RUB", "0.50", "1", 1, 0),  # 0.005 RUB
        ("RUB", "12345.67", "8", 98765, 98765),
        ("EUR", "2.50", "1", 3, 2),  # 0.025 EUR
        ("EUR", "3.50", "1", 4, 4),  # 0.035 EUR
        ("JPY", "25", "10", 3, 2),  # 2.5 JPY
        ("JPY", "1234", "8", 99, 99),  # 98.72 JPY
        ("BHD", "0.500", "0.1", 1, 0),  # 0.0005 BHD
        ("BHD", "12.345", "8", 988, 988),  # 0.9876 BHD
    ],
)
def test_rounding_to_minor_units(currency, amount, percent, half_up, half_even):
    for rounding, expected in (("half_up", half_up), ("half_even", half_even)):
        plan = plan_of(currency, rounding, sale={"percent": percent})
        assert paid(plan, amount) == expected, rounding


def test_rounding_defaults_to_half_up_and_is_named_in_the_words():
    result = pay(plan_of("EUR", sale={"percent": "1"}), "2.50")
    assert result.partner.amount_minor == 3 and "rounded half up" in result.partner.rule


def test_flat_amounts_keep_the_currencys_places():
    assert paid(plan_of("BHD", lead={"flat": "1.250"}), event="lead") == 1250
    assert paid(plan_of("JPY", lead={"flat": "500"}), event="lead") == 500
    with pytest.raises(PlanError, match=r"events\.lead\.flat: .*JPY has 0 decimal places"):
        plan_of("JPY", lead={"flat": "50.5"})


# Refusals

SALE = {"percent": "8"}


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda p: p["events"]["sale"].update(percent=8.0), r"events\.sale\.percent: must be a decimal string"),
        (lambda p: p["events"]["sale"].update(percent=8), r"events\.sale\.percent: must be a decimal string"),
        (lambda p: p["events"]["sale"].update(percent="eight"), r"events\.sale\.percent: 'eight' is not a decimal"),
        (lambda p: p["events"]["sale"].update(percent="150"), r"events\.sale\.percent: '150' is more than 100%"),
        (lambda p: p["events"]["sale"].update(flat="-1.00"), r"events\.sale\.flat: '-1.00' must be .* not negative"),
        (lambda p: p["events"]["sale"].update(flat="50.001"), r"events\.sale\.flat: RUB has 2 decimal places"),
        (lambda p: p["events"]["sale"].update(percnt="8"), r"events\.sale: unknown field\(s\) 'percnt'"),
        (lambda p: p["events"]["sale"].pop("percent"), r"events\.sale: needs a base rate"),
        (lambda p: p["events"]["sale"].update(by_tier={"gold": {}}), r"events\.sale\.by_tier\.gold: needs"),
        (
            lambda p: p["events"]["sale"].update(by_partner={"acme": {"percent": "9"}}),
            r"events\.sale\.by_partner\.acme: keys must be partner ids",
        ),
        (
            lambda p: p["events"]["sale"].update(cap={"period": "week", "count": 5}),
            r"events\.sale\.cap\.period: must be one of 'month', 'quarter', 'year'",
        ),
        (lambda p: p["events"]["sale"].update(cap={"period": "month"}), r"events\.sale\.cap: needs \"count\""),
        (
            lambda p: p["events"]["sale"].update(cap={"period": "month", "count": "200"}),
            r"events\.sale\.cap\.count: must be a whole number",
        ),
        (
            lambda p: p["events"]["sale"].update(cap={"period": "month", "count": True}),
            r"events\.sale\.cap\.count: must be a whole number",
        ),
        (
            lambda p: p["events"]["sale"].update(
                volume_tiers={
                    "measure": "count",
                    "period": "month",
                    "steps": [{"from": 100, "percent": "10"}, {"from": 10, "percent": "12"}],
                }
            ),
            r"events\.sale\.volume_tiers\.steps\[1\]\.from: must be above the previous step's",
        ),
        (
            lambda p: p["events"]["sale"].update(
                volume_tiers={"measure": "count", "period": "month", "steps": [{"from": "10", "percent": "10"}]}
            ),
            r"events\.sale\.volume_tiers\.steps\[0\]\.from: must be a whole number",
        ),
        (
            lambda p: p["events"]["sale"].update(volume_tiers={"measure": "revenue", "period": "month", "steps": []}),
            r"events\.sale\.volume_tiers\.measure: must be one of 'amount', 'count'",
        ),
        (lambda p: p.update(currency="rub"), r"currency: 'rub' is not an ISO 4217 currency"),
        (lambda p: p.pop("currency"), r"currency: is required"),
        (lambda p: p.update(rounding="up"), r"rounding: must be one of 'half_up', 'half_even'"),
        (lambda p: p.update(events={}), r"events: needs at least one event rule"),
        (lambda p: p.update(parent_override={"percent": "1", "of": "profit"}), r"parent_override\.of: must be one of"),
        (
            lambda p: p.update(parent_override={"percent": "1", "of": "sale", "events": ["refund"]}),
            r"parent_override\.events: 'refund' is not an event of this plan",
        ),
    ],
)
def test_malformed_plans_are_refused_naming_the_field(change, message):
    data = {"currency": "RUB", "events": {"sale": copy.deepcopy(SALE)}}
    change(data)
    with pytest.raises(PlanError, match=r"^commission plan: " + message):
        parse_plan(data)


def test_a_plan_that_is_not_an_object_is_refused():
    with pytest.raises(PlanError, match="expected an object"):
        parse_plan(["sale"])


def test_a_conversion_in_another_currency_is_refused_never_converted():
    plan = plan_of(sale={"percent": "8"})
    with pytest.raises(CommissionRefused, match="the conversion is in EUR but the plan pays in RUB"):
        pay(plan, "100.00", currency="EUR")


def test_a_percent_of_a_conversion_without_an_amount_is_refused():
    with pytest.raises(CommissionRefused, match="pays a percent of the amount, but the conversion has none"):
        pay(plan_of(sale={"percent": "8"}))


def test_wrong_arguments_are_refused():
    plan = plan_of(sale={"percent": "8"})
    with pytest.raises(CommissionRefused, match="cannot be its own parent"):
        pay(plan, "1.00", partner=5, parent=5)
    with pytest.raises(TypeError, match="amount_minor"):
        commission_for(
            plan,
            event="sale",
            amount_minor=1.5,
            currency="RUB",
            partner_id=1,
            partner_tier=None,
            period_volume=PeriodVolume(),
        )
    with pytest.raises(TypeError, match="PeriodVolume.count"):
        PeriodVolume(count=-1)


# Periods the caller counts volume and caps over


@pytest.mark.parametrize(
    "period, start",
    [
        ("month", datetime(2026, 5, 1, tzinfo=UTC)),
        ("quarter", datetime(2026, 4, 1, tzinfo=UTC)),
        ("year", datetime(2026, 1, 1, tzinfo=UTC)),
    ],
)
def test_period_start(period, start):
    assert period_start(period, datetime(2026, 5, 17, 13, 45, tzinfo=UTC)) == start
