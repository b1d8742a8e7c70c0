"""The engine's profile inputs: their types, which regime reads which, and whether a set of them will price.

``quote()`` reads inputs lazily and blocks the payout when one is missing or malformed. A stored profile
should be refused at the door instead, so this module checks the types first (a misspelt key would
otherwise be ignored without a word) and then asks the engine itself whether the inputs are enough under
the rates in force: its own messages name what is missing.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

import pycountry

from payouts.tax.engine.plan import Blocked, Profile, plan, year_total_rules
from payouts.tax.engine.regimes import Regime, Version, version_in_force

FLAGS = ("services_abroad", "corporation", "self_billing", "self_billing_agreement")
FRACTIONS = ("treaty_rate",)  # plus every name a preset's vat.rate_from_profile gives (usn_vat_rate)
AMOUNTS = ("last_year_income",)
COUNTRIES = ("vat_country",)


class InputsInvalid(ValueError):
    """One or more inputs are wrong: ``problems`` maps each input (or "") to the reason."""

    def __init__(self, problems: dict[str, str]):
        super().__init__("; ".join(f"{key or 'inputs'}: {reason}" for key, reason in problems.items()))
        self.problems = problems


def known_inputs(regimes: Mapping[str, Regime]) -> tuple[str, ...]:
    return FLAGS + _fractions(regimes) + AMOUNTS + COUNTRIES


def checked_types(inputs: Profile, regimes: Mapping[str, Regime]) -> dict[str, Any]:
    """The inputs with their types checked and values normalised ("de" -> "DE", " 0.10" -> "0.10")."""
    fractions, known = _fractions(regimes), known_inputs(regimes)
    cleaned: dict[str, Any] = {}
    problems: dict[str, str] = {}
    for key, value in inputs.items():
        try:
            if key not in known:
                raise ValueError(f"unknown input; the engine reads {', '.join(known)}")
            cleaned[key] = _typed(key, value, fractions)
        except ValueError as error:
            problems[key] = str(error)
    if problems:
        raise InputsInvalid(problems)
    return cleaned


def _typed(key: str, value: Any, fractions: tuple[str, ...]) -> Any:
    if key in FLAGS:
        if not isinstance(value, bool):
            raise ValueError(f"must be true or false, not {value!r}")
        return value
    if not isinstance(value, str):
        raise ValueError(f"must be a string, not {value!r}")
    if key in COUNTRIES:
        code = value.strip().upper()
        if pycountry.countries.get(alpha_2=code) is None:
            raise ValueError(f"{value!r} is not an ISO 3166 alpha-2 country code")
        return code
    return str(_decimal(value, fraction=key in fractions))


def _decimal(value: str, fraction: bool) -> Decimal:
    try:
        number = Decimal(value.strip())
    except InvalidOperation:
        raise ValueError(f"{value!r} is not a decimal number") from None
    if not number.is_finite() or number < 0 or (fraction and number >= 1):
        raise ValueError(
            f'{value!r} must be a fraction below 1 (write 10% as "0.10")'
            if fraction
            else f"{value!r} must be an amount of 0 or more"
        )
    return number


def inputs_read(regime: Regime) -> tuple[str, ...]:
    """Every input some version of the regime reads, mirroring payouts.tax.engine.plan's rules."""
    names: list[str] = []
    for version in regime.versions:
        names += _read_by(version)
    return tuple(dict.fromkeys(names))


def _read_by(version: Version) -> list[str]:
    names, charge, vat = [], version.withholding, version.vat
    if charge is not None and charge.foreign_source_exempt:
        names.append("services_abroad")
    if charge is not None and charge.treaty_rate_from_profile:
        names.append("treaty_rate")
    if vat is not None and vat.rates_by_country is not None:
        names.append("vat_country")
    if vat is not None and vat.exempt_while_last_year_income_at_most is not None:
        names.append("last_year_income")
    if vat is not None and vat.rate_from_profile is not None:
        names.append(vat.rate_from_profile)
    if version.small_business_limits is not None:
        names += ["vat_country", "last_year_income"]
    if version.information_return is not None and version.information_return.corporations_exempt:
        names.append("corporation")
    if version.self_billing_needs_agreement:
        names += ["self_billing", "self_billing_agreement"]
    return names


def check_for_regime(regime: Regime, inputs: Profile, today: date, facts: Profile | None = None) -> None:
    """Refuse inputs the regime never reads, and inputs the engine would block on under today's rates.

    ``facts`` are inputs kept elsewhere in the profile (self_billing_agreement): the engine sees them,
    but they are no mistake when a regime ignores them. Only the version in force (or, for a regime not
    yet in force, its first) is asked: inputs such as last_year_income change every year anyway, and
    payability() asks again on each payout date.
    """
    read = inputs_read(regime)
    unused = {
        key: f"regime {regime.code} does not read it (it reads {', '.join(read) or 'no inputs'})"
        for key in inputs
        if key not in read
    }
    if unused:
        raise InputsInvalid(unused)
    version = version_to_check(regime, today)
    if version is None:
        raise InputsInvalid({"": f"regime {regime.code} no longer applies (its last version lapsed)"})
    seen_by_engine = {**inputs, **(facts or {})}
    try:
        plan(regime, version, max(today, version.effective_from), seen_by_engine)
        year_total_rules(version, seen_by_engine, Decimal(0), Decimal(0))
    except Blocked as blocked:
        raise InputsInvalid({"": f"{blocked} (rates from {version.effective_from})"}) from None


def version_to_check(regime: Regime, today: date) -> Version | None:
    """The version in force today, else the first still to come; None once the regime has lapsed."""
    current = version_in_force(regime, today)
    if current is not None:
        return current
    return next((version for version in regime.versions if version.effective_from > today), None)


def _fractions(regimes: Mapping[str, Regime]) -> tuple[str, ...]:
    extra = {
        version.vat.rate_from_profile
        for regime in regimes.values()
        for version in regime.versions
        if version.vat is not None and version.vat.rate_from_profile is not None
    }
    return FRACTIONS + tuple(sorted(extra - set(FRACTIONS)))
