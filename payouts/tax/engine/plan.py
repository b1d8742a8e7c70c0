"""A partner's tax profile applied to a preset version: the rules one payout really runs under.

The profile holds what a preset cannot know: the partner's VAT country, where the work is done, a
treaty rate, last year's income. A rule that needs an input the profile lacks blocks the payout with the
reason. A missing input is never read as a default, because the outcomes differ by tens of percent.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from payouts.tax.engine.arithmetic import ZERO, money, number, percent, round_half_up
from payouts.tax.engine.regimes import Band, Charge, IncomeCap, InformationReturn, Limits, Regime, Version

# A partner's tax profile inputs as stored: JSON values keyed by the names the regimes read.
Profile = Mapping[str, Any]

CENT = Decimal("0.01")


class Blocked(Exception):
    """The regime cannot price this payout; the message says why and what would fix it."""


@dataclass(frozen=True)
class Plan:
    currency: str
    withholding: Charge | None
    contributions: Charge | None
    vat_rate: Decimal
    vat_recoverable: bool
    vat_rounding: Decimal
    applied: tuple[str, ...]
    documents: tuple[str, ...]
    warnings: tuple[str, ...]


def plan(regime: Regime, version: Version, payout_date: date, profile: Profile) -> Plan:
    """The version's rules with the profile's inputs resolved; raises Blocked when one is missing."""
    applied: list[str] = []
    withholding = _withholding(version.withholding, profile, applied)
    vat_rate, currency = _vat_rate(version, profile, applied)
    vat = version.vat
    return Plan(
        currency=currency or regime.currency,
        withholding=withholding,
        contributions=version.contributions,
        vat_rate=vat_rate,
        vat_recoverable=vat is not None and vat.recoverable,
        vat_rounding=CENT if vat is None else vat.rounding,
        applied=tuple(applied),
        documents=version.documents + _self_billing(version, profile),
        warnings=_warnings(version, payout_date),
    )


def _withholding(charge: Charge | None, profile: Profile, applied: list[str]) -> Charge | None:
    if charge is None:
        return None
    if charge.foreign_source_exempt and _yes_no(
        profile, "services_abroad", f"{charge.label} depends on where the services are performed"
    ):
        applied.append(f"no {charge.label}: services performed abroad are foreign-source income")
        return None
    if charge.treaty_rate_from_profile and profile.get("treaty_rate") is not None:
        rate = _amount(profile, "treaty_rate", "", fraction=True)
        applied.append(
            f"{charge.label}: treaty rate {percent(rate)} from the profile instead of {percent(charge.bands[0].rate)}"
        )
        return replace(charge, bands=(Band(ZERO, None, rate),))
    return charge


def _vat_rate(version: Version, profile: Profile, applied: list[str]) -> tuple[Decimal, str | None]:
    """The VAT rate, and the currency when the rate's country decides it."""
    vat = version.vat
    if vat is None:
        if version.reverse_charge:
            applied.append("no VAT: reverse charge, the payer self-accounts for VAT; cost is the net amount")
        return ZERO, None
    if vat.rates_by_country is not None:
        country = _country(profile, "the VAT rate is the country's")
        entry = vat.rates_by_country.get(country)
        if entry is None:
            raise Blocked(f"no VAT rate for {country} in the presets; add it, or choose another regime")
        return entry.rate, entry.currency
    limit = vat.exempt_while_last_year_income_at_most
    if limit is not None:
        last_year = _amount(profile, "last_year_income", "VAT depends on last year's income")
        if last_year <= limit:
            applied.append(f"no VAT: last year's income {money(last_year)} is at most {number(limit)}")
            return ZERO, None
        applied.append(f"VAT due: last year's income {money(last_year)} is above {number(limit)}")
    if vat.rate_from_profile is not None:
        rate = _amount(profile, vat.rate_from_profile, "the partner's chosen VAT rate", fraction=True)
        if rate not in vat.allowed_rates:
            allowed = ", ".join(percent(allowed) for allowed in vat.allowed_rates)
            raise Blocked(f"VAT rate {percent(rate)} is not one of {allowed}")
        return rate, None
    if vat.rate is None:
        raise AssertionError("the presets loader gives every VAT exactly one way to find its rate")
    return vat.rate, None


def _self_billing(version: Version, profile: Profile) -> tuple[str, ...]:
    if not version.self_billing_needs_agreement or not _flag(profile, "self_billing"):
        return ()
    if not _flag(profile, "self_billing_agreement"):
        raise Blocked("self-billing needs a prior agreement with the partner (profile self_billing_agreement)")
    return ("self-billed-invoice",)


def _warnings(version: Version, payout_date: date) -> tuple[str, ...]:
    warnings = [f"unconfirmed: {text}" for text in version.unconfirmed]
    for charge in (version.withholding, version.contributions):
        if charge is not None and charge.base_year not in (None, payout_date.year):
            warnings.append(
                f"{charge.label}: the presets hold the {charge.base_year} base, not "
                f"{payout_date.year}'s; add a version for {payout_date.year}"
            )
    return tuple(warnings)


def year_total_rules(version: Version, profile: Profile, paid: Decimal, gross: Decimal) -> tuple[list[str], list[str]]:
    """Rules that look at the year's total with this payout: (applied words, documents due)."""
    total = paid + gross
    applied: list[str] = []
    documents: list[str] = []
    if version.income_cap is not None:
        applied.append(_within_cap(version.income_cap, total))
    if version.small_business_limits is not None:
        applied.append(_small_business(version.small_business_limits, profile, total))
    if version.information_return is not None:
        form = _information_return(version.information_return, profile, total, applied)
        documents += [form] if form else []
    own = version.partner_pays_himself
    if own is not None:
        applied.append(
            f"nothing withheld: the partner pays {own.label} {percent(own.rate)} himself "
            f"({money(round_half_up(gross * own.rate, CENT))})"
        )
    return applied, documents


def _within_cap(cap: IncomeCap, total: Decimal) -> str:
    if total > cap.year_total_at_most:
        raise Blocked(
            f"income cap: this year's total {money(total)} would pass "
            f"{number(cap.year_total_at_most)}; from here the rules of regime {cap.otherwise!r} apply"
        )
    return f"within the income cap: {money(total)} of {number(cap.year_total_at_most)} this year"


def _small_business(limits: Mapping[str, Limits], profile: Profile, total: Decimal) -> str:
    country = _country(profile, "the small-business limits are the country's")
    limit = limits.get(country)
    if limit is None:
        raise Blocked(f"no small-business limits for {country} in the presets; add them first")
    last_year = _amount(profile, "last_year_income", "the exemption depends on last year's income")
    if last_year > limit.last_year_at_most:
        raise Blocked(
            f"not a small business: last year's income {money(last_year)} is above "
            f"{number(limit.last_year_at_most)}; the partner must charge VAT"
        )
    if total > limit.this_year_at_most:
        raise Blocked(
            f"not a small business: this year's total {money(total)} would pass "
            f"{number(limit.this_year_at_most)}; the partner must charge VAT"
        )
    return (
        f"no VAT: small-business exemption ({country}: last year {money(last_year)}, this year so far {money(total)})"
    )


def _information_return(rule: InformationReturn, profile: Profile, total: Decimal, applied: list[str]) -> str | None:
    if rule.corporations_exempt and _flag(profile, "corporation"):
        applied.append(f"no {rule.form}: corporations are exempt")
        return None
    if total >= rule.year_total_at_least:
        applied.append(
            f"{rule.form} due: the year's total {money(total)} is at least {number(rule.year_total_at_least)}"
        )
        return rule.form
    applied.append(
        f"{rule.form} not due yet: the year's total {money(total)} is below {number(rule.year_total_at_least)}"
    )
    return None


def _needed(profile: Profile, key: str, why: str) -> Any:
    value = profile.get(key)
    if value is None:
        raise Blocked(f"the tax profile needs {key!r}" + (f": {why}" if why else ""))
    return value


def _flag(profile: Profile, key: str) -> bool:
    """An optional yes/no input: absent means no."""
    value = profile.get(key, False)
    if not isinstance(value, bool):
        raise Blocked(f"the tax profile's {key!r} must be true or false, not {value!r}")
    return value


def _yes_no(profile: Profile, key: str, why: str) -> bool:
    _needed(profile, key, why)
    return _flag(profile, key)


def _amount(profile: Profile, key: str, why: str, fraction: bool = False) -> Decimal:
    value = _needed(profile, key, why)
    try:
        if isinstance(value, (float, bool)):
            raise TypeError  # floats are inexact; a flag is not an amount
        number_ = Decimal(value.strip() if isinstance(value, str) else value)
    except (TypeError, ValueError, InvalidOperation):
        raise Blocked(f"the tax profile's {key!r} must be a decimal string, not {value!r}") from None
    if not number_.is_finite() or number_ < 0 or (fraction and number_ >= 1):
        kind = 'a fraction below 1 (10% is "0.10")' if fraction else "an amount of 0 or more"
        raise Blocked(f"the tax profile's {key!r} must be {kind}, not {value!r}")
    return number_


def _country(profile: Profile, why: str) -> str:
    value = _needed(profile, "vat_country", why)
    if not isinstance(value, str):
        raise Blocked(f"the tax profile's 'vat_country' must be a country code like \"DE\", not {value!r}")
    return value.strip().upper()
