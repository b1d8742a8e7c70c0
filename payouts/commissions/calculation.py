"""The commission one conversion earns under an offer's plan, for the partner and for its parent.

``commission_for`` is pure: the caller (the ledger, the worker) says what the partner already did in the
plan's periods (``PeriodVolume``), and gets back lines in the plan currency's minor units, each with the
rule applied in words so that a partner or finance can check it by hand. Which rate wins, how volume
steps and caps count, and what the parent earns are set out in ``payouts.commissions.rules``.

Arguments that cannot be priced without a guess (a conversion in another currency than the plan's, a
percent of a conversion that has no amount) raise ``CommissionRefused`` with the reason.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal, localcontext

from core.money import format_money, minor_digits
from payouts.commissions.rules import (
    Cap,
    EventRule,
    ParentOverride,
    PlanRules,
    Rate,
)

__all__ = ["CommissionLine", "CommissionRefused", "CommissionResult", "PeriodVolume", "commission_for"]

_ROUNDING = {"half_up": ROUND_HALF_UP, "half_even": ROUND_HALF_EVEN}


class CommissionRefused(ValueError):
    """The conversion cannot be priced under this plan without a guess; the message says why."""


@dataclass(frozen=True)
class PeriodVolume:
    """What the partner did for this offer and event BEFORE this conversion.

    ``count`` and ``amount_minor``: its conversions of the event and their amount in the volume-tier
    period (``rule.volume_tiers.period``). ``commission_count`` and ``commission_minor``: the
    commissions it already earned for the event in the cap period (``rule.cap.period``); count only
    conversions that earned more than 0, so that capped ones do not use up the cap.
    """

    count: int = 0
    amount_minor: int = 0
    commission_count: int = 0
    commission_minor: int = 0

    def __post_init__(self):
        for field in fields(self):
            value = getattr(self, field.name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise TypeError(f"PeriodVolume.{field.name} must be a whole number of 0 or more, not {value!r}")


@dataclass(frozen=True)
class CommissionLine:
    partner_id: int
    amount_minor: int
    rule: str  # the rate applied and what it gives, in words, before any cap (cap_reason says the rest)
    capped: bool = False
    cap_reason: str | None = None  # why the cap cut the line, when it did


@dataclass(frozen=True)
class CommissionResult:
    currency: str  # the plan's; every amount_minor is in its minor units
    event: str
    partner: CommissionLine
    parent: CommissionLine | None = None  # the parent override, when the partner has a parent


def commission_for(
    plan: PlanRules,
    *,
    event: str,
    amount_minor: int | None,
    currency: str | None,
    partner_id: int,
    partner_tier: str | None,
    period_volume: PeriodVolume,
    parent_id: int | None = None,
) -> CommissionResult:
    """Price one conversion; an event the plan has no rule for earns 0 and says so."""
    _check_arguments(plan, event, amount_minor, currency, partner_id, parent_id, period_volume)
    rule = plan.events.get(event)
    if rule is None:
        line = CommissionLine(partner_id, 0, f"no commission: the plan has no rule for event {event!r}")
        return CommissionResult(plan.currency, event, line)
    rate, why = _chosen_rate(rule, plan, partner_id, partner_tier, period_volume)
    if rate.percent and amount_minor is None:
        raise CommissionRefused(f"event {event!r} pays a percent of the amount, but the conversion has none")
    base_minor = amount_minor or 0  # no amount only with a flat rate, which takes no percent of it
    earned = _priced(plan, rate.flat_minor, base_minor, rate.percent)
    words = (
        f"{_rate_words(plan, rate, base_minor)} = {format_money(earned, plan.currency)} ({why}{_rounding_words(plan)})"
    )
    paid, cap_reason = _after_cap(plan, rule.cap, earned, period_volume, event)
    line = CommissionLine(partner_id, paid, words, cap_reason is not None, cap_reason)
    parent = None if parent_id is None else _parent_line(plan, event, parent_id, amount_minor, paid)
    return CommissionResult(plan.currency, event, line, parent)


def _chosen_rate(
    rule: EventRule, plan: PlanRules, partner_id: int, tier: str | None, volume: PeriodVolume
) -> tuple[Rate, str]:
    """The rate and why it won: by_partner > by_tier > the highest volume step reached > base."""
    if partner_id in rule.by_partner:
        return rule.by_partner[partner_id], f"partner {partner_id}'s own rate"
    if tier is not None and tier in rule.by_tier:
        return rule.by_tier[tier], f"tier {tier!r} rate"
    tiers = rule.volume_tiers
    if tiers is not None:
        before = volume.count if tiers.measure == "count" else volume.amount_minor
        step = tiers.step_for(before)
        if step is not None:
            if tiers.measure == "count":
                return step.rate, (
                    f"volume step: {before} conversions this {tiers.period} before this one, at least {step.start}"
                )
            return step.rate, (
                f"volume step: {format_money(before, plan.currency)} this {tiers.period} before this one, "
                f"at least {format_money(step.start, plan.currency)}"
            )
    return rule.base, "base rate"


def _after_cap(
    plan: PlanRules, cap: Cap | None, earned: int, volume: PeriodVolume, event: str
) -> tuple[int, str | None]:
    """What may be paid of ``earned`` under the cap, and why it was cut (None when it was not)."""
    if cap is None or earned == 0:
        return earned, None
    if cap.count is not None and volume.commission_count >= cap.count:
        return 0, (
            f"count cap reached: {volume.commission_count} {event} commissions this {cap.period} "
            f"already, at most {cap.count}"
        )
    if cap.amount_minor is None:
        return earned, None
    left = cap.amount_minor - volume.commission_minor
    if left <= 0:
        return 0, (
            f"amount cap reached: {format_money(volume.commission_minor, plan.currency)} this {cap.period} already, "
            f"at most {format_money(cap.amount_minor, plan.currency)}"
        )
    if earned > left:
        return left, (
            f"amount cap: only {format_money(left, plan.currency)} left of "
            f"{format_money(cap.amount_minor, plan.currency)} this {cap.period}; "
            f"paid that instead of {format_money(earned, plan.currency)}"
        )
    return earned, None


def _parent_line(
    plan: PlanRules, event: str, parent_id: int, amount_minor: int | None, child_commission: int
) -> CommissionLine | None:
    override: ParentOverride | None = plan.parent_override
    if override is None or not override.covers(event):
        return None
    if override.of == "commission":
        base, what = child_commission, "the child's commission"
    else:
        # A conversion without an amount (a lead, say) has no sale to take a share of.
        base, what = amount_minor or 0, "the child's sale"
    earned = _priced(plan, 0, base, override.percent)
    words = (
        f"parent override {_number(override.percent)}% of {what} {format_money(base, plan.currency)} = "
        f"{format_money(earned, plan.currency)}{_rounding_words(plan, first=True)}"
    )
    return CommissionLine(parent_id, earned, words)


def _priced(plan: PlanRules, flat_minor: int, base_minor: int, percent: Decimal) -> int:
    """flat + percent of base, rounded once in the currency's own unit (RUB 0.01, JPY 1, BHD 0.001)."""
    digits = minor_digits(plan.currency)
    # Enough precision that nothing is rounded before the one rounding the plan asks for.
    with localcontext(prec=60):
        exact = (Decimal(flat_minor) + Decimal(base_minor) * percent / 100).scaleb(-digits)
        rounded = exact.quantize(Decimal(1).scaleb(-digits), rounding=_ROUNDING[plan.rounding])
    return int(rounded.scaleb(digits))


def _rate_words(plan: PlanRules, rate: Rate, amount_minor: int) -> str:
    parts = []
    if rate.flat_minor or not rate.percent:
        parts.append(f"{format_money(rate.flat_minor, plan.currency)} flat")
    if rate.percent:
        parts.append(f"{_number(rate.percent)}% of {format_money(amount_minor, plan.currency)}")
    return " + ".join(parts)


def _rounding_words(plan: PlanRules, first: bool = False) -> str:
    words = "rounded half up" if plan.rounding == "half_up" else "rounded half to even"
    return f" ({words})" if first else f", {words}"


def _number(value: Decimal) -> str:
    text = f"{value:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def _check_arguments(plan, event, amount_minor, currency, partner_id, parent_id, volume) -> None:
    if not isinstance(plan, PlanRules):
        raise TypeError(f"plan must be PlanRules (see parse_plan), not {type(plan).__name__}")
    if not isinstance(event, str) or not event.strip():
        raise TypeError(f"event must be a non-blank string, not {event!r}")
    if amount_minor is not None and (
        isinstance(amount_minor, bool) or not isinstance(amount_minor, int) or amount_minor < 0
    ):
        raise TypeError(f"amount_minor must be whole minor units of 0 or more, not {amount_minor!r}")
    if (amount_minor is None) != (currency is None):
        raise CommissionRefused("an amount needs its currency, and a currency needs an amount")
    if currency is not None and currency != plan.currency:
        raise CommissionRefused(
            f"the conversion is in {currency} but the plan pays in {plan.currency}; "
            "convert it first or give the offer a plan in that currency"
        )
    if not _is_id(partner_id) or not (parent_id is None or _is_id(parent_id)):
        raise TypeError(f"partner_id and parent_id must be partner ids, not {partner_id!r}, {parent_id!r}")
    if parent_id == partner_id:
        raise CommissionRefused(f"partner {partner_id} cannot be its own parent")
    if not isinstance(volume, PeriodVolume):
        raise TypeError(f"period_volume must be a PeriodVolume, not {type(volume).__name__}")


def _is_id(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
