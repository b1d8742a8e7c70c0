"""Tax on a partner payout: what is withheld, what VAT is added, what the payer pays on top.

``quote()`` prices one payout under one regime on one date, with the rates of the preset version in
force that day (tax_regimes.json). A regime that cannot apply (no rates for the date, a missing profile
input, a cap passed) comes back blocked with the reason, never with a guessed figure.

Words used throughout: ``gross`` is the commission before withholding and without VAT; ``basis="net"``
promises the partner gross - withholding (VAT, which the partner hands on to the state, still comes on
top); ``net_to_partner`` is the cash the partner receives, gross - withholding + VAT; ``company_cost``
is the payer's cash out, gross + VAT + contributions, of which ``recoverable_vat`` comes back.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from core.money import minor_digits
from payouts.tax.engine.arithmetic import ZERO, charge_on, describe, gross_for_net, money, percent, round_half_up
from payouts.tax.engine.plan import Blocked, Plan, Profile, plan, year_total_rules
from payouts.tax.engine.presets import PresetError, active_regimes, load_regimes
from payouts.tax.engine.regimes import Charge, Regime, Version, version_in_force

__all__ = ["PresetError", "TaxQuote", "active_regimes", "load_regimes", "quote", "version_in_force"]

BASES = ("gross", "net")


@dataclass(frozen=True)
class TaxQuote:
    regime: str
    currency: str
    effective_from: date | None  # the preset version used; None when no version applies
    gross: Decimal
    withholding: Decimal
    contributions: Decimal
    vat: Decimal
    recoverable_vat: Decimal
    net_to_partner: Decimal
    company_cost: Decimal
    applied: tuple[str, ...] = ()
    documents: tuple[str, ...] = ()  # what the payout needs on paper: "1099-NEC", "npd-receipt", ...
    warnings: tuple[str, ...] = ()
    blocked_reason: str | None = None  # set: the regime cannot apply; every amount is then zero

    @property
    def blocked(self) -> bool:
        return self.blocked_reason is not None


def quote(
    regime_code: str,
    amount: Decimal | int | str,
    *,
    basis: str,
    payout_date: date,
    paid_this_year: Decimal | int | str = ZERO,
    profile: Profile | None = None,
    regimes: Mapping[str, Regime] | None = None,
) -> TaxQuote:
    """Price one payout. ``paid_this_year`` is the gross this payer already paid this payee in the
    payout date's calendar year; cumulative bands, caps and thresholds count from it.

    Wrong arguments (a float, a negative amount, more decimals than the currency has) raise; a regime
    that cannot apply returns a blocked quote.
    """
    amount = _decimal_argument("amount", amount)
    paid = _decimal_argument("paid_this_year", paid_this_year)
    if basis not in BASES:
        raise ValueError(f"basis must be one of {BASES}, not {basis!r}")
    if isinstance(payout_date, datetime) or not isinstance(payout_date, date):
        raise TypeError(f"payout_date must be a date, not {payout_date!r}")
    regimes = active_regimes() if regimes is None else regimes
    regime = regimes.get(regime_code)
    if regime is None:
        return _blocked(regime_code, "", None, f"unknown tax regime {regime_code!r}")
    version = version_in_force(regime, payout_date)
    if version is None:
        return _blocked(regime.code, regime.currency, None, _no_version(regime, payout_date))
    try:
        return _priced(regime, version, amount, basis, payout_date, paid, profile or {})
    except Blocked as blocked:
        return _blocked(regime.code, regime.currency, version.effective_from, str(blocked))


def _priced(
    regime: Regime, version: Version, amount: Decimal, basis: str, payout_date: date, paid: Decimal, profile: Profile
) -> TaxQuote:
    rules = plan(regime, version, payout_date, profile)
    _check_places("amount", amount, rules.currency)
    gross = amount if basis == "gross" else gross_for_net(rules.withholding, paid, amount)
    year_words, year_documents = year_total_rules(version, profile, paid, gross)
    applied = list(rules.applied)
    withholding = _charge(rules.withholding, paid, gross, applied)
    contributions = _charge(rules.contributions, paid, gross, applied)
    vat = round_half_up(gross * rules.vat_rate, rules.vat_rounding)
    if vat:
        applied.append(_vat_words(rules, gross, vat))
    return _quote_in_minor_units(
        rules,
        regime=regime.code,
        effective_from=version.effective_from,
        gross=gross,
        withholding=withholding,
        contributions=contributions,
        vat=vat,
        recoverable_vat=vat if rules.vat_recoverable else ZERO,
        net_to_partner=gross - withholding + vat,
        company_cost=gross + vat + contributions,
        applied=tuple(applied + year_words),
        documents=rules.documents + tuple(year_documents),
        warnings=rules.warnings,
    )


def _charge(charge: Charge | None, paid: Decimal, gross: Decimal, applied: list[str]) -> Decimal:
    if charge is None:
        return ZERO
    amount = charge_on(charge, paid, gross)
    applied.extend(describe(charge, paid, gross, amount))
    return amount


def _vat_words(rules: Plan, gross: Decimal, vat: Decimal) -> str:
    who = "recoverable by the payer" if rules.vat_recoverable else "not recoverable"
    return f"VAT {percent(rules.vat_rate)} on {money(gross)}: {money(vat)}, added on top ({who})"


def _quote_in_minor_units(rules: Plan, **fields: Any) -> TaxQuote:
    """Every amount written to the currency's minor unit (13000 as 13000.00), so quotes print alike."""
    unit = Decimal(1).scaleb(-minor_digits(rules.currency))
    for name, value in fields.items():
        if isinstance(value, Decimal):
            fields[name] = value.quantize(unit)
    return TaxQuote(currency=rules.currency, **fields)


def _blocked(code: str, currency: str, effective_from: date | None, reason: str) -> TaxQuote:
    return TaxQuote(
        regime=code,
        currency=currency,
        effective_from=effective_from,
        gross=ZERO,
        withholding=ZERO,
        contributions=ZERO,
        vat=ZERO,
        recoverable_vat=ZERO,
        net_to_partner=ZERO,
        company_cost=ZERO,
        blocked_reason=reason,
    )


def _no_version(regime: Regime, on_date: date) -> str:
    first = regime.versions[0].effective_from
    if on_date < first:
        return f"{regime.code} has no rates before {first} in the presets (payout dated {on_date})"
    return f"{regime.code} no longer applies on {on_date} (its last version lapsed)"


def _decimal_argument(name: str, value: object) -> Decimal:
    if isinstance(value, (float, bool)) or not isinstance(value, (Decimal, int, str)):
        raise TypeError(f"{name} must be a Decimal, an int or a decimal string, not {value!r}")
    try:
        number = Decimal(value)
    except ArithmeticError:  # decimal.InvalidOperation: not a number at all
        raise ValueError(f"{name} must be a decimal amount, not {value!r}") from None
    if not number.is_finite() or number < 0:
        raise ValueError(f"{name} must be a finite amount of 0 or more, not {value!r}")
    return number


def _check_places(name: str, value: Decimal, currency: str) -> None:
    digits = minor_digits(currency)
    if value != value.quantize(Decimal(1).scaleb(-digits)):
        raise ValueError(f"{name} {value} has more decimal places than {currency} ({digits})")
