"""An offer's commission plan as data, and ``parse_plan`` that checks every field before any is used.

The shape (money and rates are decimal strings, never JSON numbers; unknown fields are refused)::

    {"currency": "RUB",                      # ISO 4217; every amount in the plan is in it
     "rounding": "half_up",                  # or "half_even"; optional, half_up when absent
     "events": {                             # one rule per conversion event ("lead", "sale", custom)
       "lead": {"flat": "50.00",             # a rate: "flat" money and/or "percent" of the amount
                "cap": {"period": "month", "count": 200}},
       "sale": {"percent": "8",
                "by_tier": {"gold": {"percent": "10"}},           # a rate per partner tier
                "by_partner": {"42": {"percent": "15"}},          # a rate per partner id
                "volume_tiers": {"measure": "amount",             # or "count" (conversions)
                                 "period": "month",
                                 "steps": [{"from": "1000000.00", "percent": "12"}]},
                "cap": {"period": "month", "amount": "300000.00"}}},
     "parent_override": {"percent": "1", "of": "sale",            # or "of": "commission"
                         "events": ["sale"]}}                     # optional; every event when absent

A rate is ``{"flat": "50.00"}``, ``{"percent": "8"}`` or both (flat plus percent of the amount). An event
rule needs a base rate; write ``"percent": "0"`` to pay only the partners and tiers it names.

Which rate applies, first match wins: ``by_partner`` > ``by_tier`` > the highest volume step reached >
the base rate. An override replaces the rate whole; it is not added to the base.

A volume step applies to the whole conversion once the partner's volume of this event in the period
*before* this conversion is at least its ``from`` (a count of conversions, or an amount of money).
Nothing is split across the threshold: the sale that crosses 1,000,000 still earns the lower rate and
the next one earns the step's.

A cap limits the partner's own commissions for the event in its period: ``count`` (conversions that
earned a commission) and/or ``amount`` (money). Once reached the conversion earns 0; an amount cap
partly left pays what is left. Periods are calendar ones: "month", "quarter", "year".

The parent override pays a partner's parent (a distributor over its resellers) a percent of the child's
sale amount (``"of": "sale"``) or of the child's commission after its cap (``"of": "commission"``).
It is the parent's own line, so the child's cap does not limit it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from itertools import pairwise
from types import MappingProxyType

from payouts.commissions.fields import Fields, PlanError

__all__ = [
    "PERIODS",
    "ROUNDINGS",
    "Cap",
    "EventRule",
    "ParentOverride",
    "PlanError",
    "PlanRules",
    "Rate",
    "Step",
    "VolumeTiers",
    "parse_plan",
    "period_start",
]

PERIODS = ("month", "quarter", "year")
ROUNDINGS = ("half_up", "half_even")
MEASURES = ("amount", "count")
OVERRIDE_BASES = ("sale", "commission")


@dataclass(frozen=True)
class Rate:
    flat_minor: int = 0  # in the plan currency's minor units
    percent: Decimal = Decimal(0)  # of the conversion's amount, 8 for 8%


@dataclass(frozen=True)
class Step:
    start: int  # volume before the conversion: a count, or the amount in minor units
    rate: Rate


@dataclass(frozen=True)
class VolumeTiers:
    measure: str
    period: str
    steps: tuple[Step, ...]  # ascending by start

    def step_for(self, volume: int) -> Step | None:
        reached = [step for step in self.steps if volume >= step.start]
        return reached[-1] if reached else None


@dataclass(frozen=True)
class Cap:
    period: str
    count: int | None = None
    amount_minor: int | None = None


@dataclass(frozen=True)
class EventRule:
    base: Rate
    by_tier: Mapping[str, Rate]
    by_partner: Mapping[int, Rate]
    volume_tiers: VolumeTiers | None = None
    cap: Cap | None = None


@dataclass(frozen=True)
class ParentOverride:
    percent: Decimal
    of: str  # "sale" or "commission"
    events: frozenset[str] | None = None  # None: every event of the plan

    def covers(self, event: str) -> bool:
        return self.events is None or event in self.events


@dataclass(frozen=True)
class PlanRules:
    currency: str
    rounding: str
    events: Mapping[str, EventRule]
    parent_override: ParentOverride | None = None


def parse_plan(data) -> PlanRules:
    """A checked plan from decoded JSON; anything malformed raises PlanError naming the field."""
    top = Fields(data)
    currency = top.currency("currency")
    rounding = top.choice("rounding", ROUNDINGS, default="half_up")
    entries = top.entries("events")
    if not entries:
        top.fail("events", "needs at least one event rule")
    events = {name: _event_rule(fields, currency) for name, fields in entries.items()}
    override = top.child("parent_override")
    parent = None if override is None else _parent_override(override, events)
    top.finish()
    return PlanRules(currency, rounding, MappingProxyType(events), parent)


def period_start(period: str, moment: datetime) -> datetime:
    """The start of the calendar period holding ``moment``, in the moment's own time zone (UTC here)."""
    if period not in PERIODS:
        raise ValueError(f"period must be one of {PERIODS}, not {period!r}")
    month = {"month": moment.month, "quarter": (moment.month - 1) // 3 * 3 + 1, "year": 1}[period]
    return moment.replace(month=month, day=1, hour=0, minute=0, second=0, microsecond=0)


def _event_rule(fields: Fields, currency: str) -> EventRule:
    if not (fields.has("flat") or fields.has("percent")):
        fields.fail(None, 'needs a base rate: "flat" and/or "percent" (write "percent": "0" for none)')
    rule = EventRule(
        base=_rate(fields, currency),
        by_tier=MappingProxyType(
            {name: _whole_rate(entry, currency) for name, entry in fields.entries("by_tier").items()}
        ),
        by_partner=MappingProxyType(_by_partner(fields, currency)),
        volume_tiers=_maybe(_volume_tiers, fields.child("volume_tiers"), currency),
        cap=_maybe(_cap, fields.child("cap"), currency),
    )
    fields.finish()
    return rule


def _rate(fields: Fields, currency: str) -> Rate:
    flat = fields.money_minor("flat", currency, required=False)
    percent = fields.percent("percent", required=False)
    if flat is None and percent is None:
        fields.fail(None, 'needs "flat" and/or "percent"')
    return Rate(flat or 0, Decimal(0) if percent is None else percent)


def _whole_rate(fields: Fields, currency: str) -> Rate:
    rate = _rate(fields, currency)
    fields.finish()
    return rate


def _by_partner(fields: Fields, currency: str) -> dict[int, Rate]:
    rates = {}
    for key, entry in fields.entries("by_partner").items():
        if not key.isascii() or not key.isdigit() or int(key) == 0:
            fields.fail(f"by_partner.{key}", 'keys must be partner ids, like "42"')
        rates[int(key)] = _whole_rate(entry, currency)
    return rates


def _volume_tiers(fields: Fields, currency: str) -> VolumeTiers:
    measure = fields.choice("measure", MEASURES)
    period = fields.choice("period", PERIODS)
    listed = fields.items("steps")
    if not listed:
        fields.fail("steps", "needs at least one step")
    steps = tuple(_step(fields.nested(item, f"steps[{index}]"), measure, currency) for index, item in enumerate(listed))
    for index, (lower, upper) in enumerate(pairwise(steps), start=1):
        if upper.start <= lower.start:
            fields.fail(f"steps[{index}].from", "must be above the previous step's (list steps ascending)")
    fields.finish()
    return VolumeTiers(measure, period, steps)


def _step(fields: Fields, measure: str, currency: str) -> Step:
    if measure == "count":
        start = fields.count("from")
    else:
        start = fields.money_minor("from", currency)
    if start == 0:
        fields.fail("from", "a step from 0 always applies; change the base rate instead")
    step = Step(start, _rate(fields, currency))
    fields.finish()
    return step


def _cap(fields: Fields, currency: str) -> Cap:
    cap = Cap(
        period=fields.choice("period", PERIODS),
        count=fields.count("count", required=False),
        amount_minor=fields.money_minor("amount", currency, required=False),
    )
    fields.finish()
    if cap.count is None and cap.amount_minor is None:
        fields.fail(None, 'needs "count" and/or "amount"')
    if cap.count == 0 or cap.amount_minor == 0:
        fields.fail("count" if cap.count == 0 else "amount", "a cap of 0 pays nothing; remove the event")
    return cap


def _parent_override(fields: Fields, events: Mapping[str, EventRule]) -> ParentOverride:
    percent = fields.percent("percent")
    of = fields.choice("of", OVERRIDE_BASES)
    names = fields.texts("events")
    for name in names or ():
        if name not in events:
            fields.fail("events", f"{name!r} is not an event of this plan")
    fields.finish()
    return ParentOverride(percent, of, None if names is None else frozenset(names))


def _maybe(parse, fields: Fields | None, currency: str):
    return None if fields is None else parse(fields, currency)
