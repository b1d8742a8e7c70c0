"""Tax regimes as the engine sees them: dated versions of rates, bands and thresholds.

Each version is a full snapshot rather than a change to the one before, so what applied on any date can
be read off a single entry. The presets file that fills these lives beside this module
(tax_regimes.json) and is read and checked by ``payouts.tax.engine.presets``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal


@dataclass(frozen=True)
class Band:
    lower: Decimal
    upper: Decimal | None  # None: open above
    rate: Decimal


@dataclass(frozen=True)
class Charge:
    """A percentage of the gross: withheld from the partner, or contributions the payer adds on top."""

    label: str
    bands: tuple[Band, ...]
    rounding: Decimal
    cumulative: bool = False  # bands count from what this payee was already paid this calendar year
    starts_at_year_total: Decimal | None = None
    foreign_source_exempt: bool = False
    treaty_rate_from_profile: bool = False
    base_year: int | None = None


@dataclass(frozen=True)
class CountryRate:
    rate: Decimal
    currency: str


@dataclass(frozen=True)
class Vat:
    """VAT the partner adds to the invoice; exactly one of rate, rates_by_country, rate_from_profile."""

    rounding: Decimal
    recoverable: bool
    rate: Decimal | None = None
    rates_by_country: Mapping[str, CountryRate] | None = None
    rate_from_profile: str | None = None
    allowed_rates: tuple[Decimal, ...] = ()
    exempt_while_last_year_income_at_most: Decimal | None = None


@dataclass(frozen=True)
class Limits:
    last_year_at_most: Decimal
    this_year_at_most: Decimal


@dataclass(frozen=True)
class IncomeCap:
    year_total_at_most: Decimal
    otherwise: str  # the regime that applies once the cap is passed


@dataclass(frozen=True)
class InformationReturn:
    form: str
    year_total_at_least: Decimal
    corporations_exempt: bool


@dataclass(frozen=True)
class OwnTax:
    """Tax the partner pays himself, shown to finance but never withheld."""

    label: str
    rate: Decimal


@dataclass(frozen=True)
class Version:
    effective_from: date
    valid_until: date | None = None
    withholding: Charge | None = None
    contributions: Charge | None = None
    vat: Vat | None = None
    reverse_charge: bool = False
    small_business_limits: Mapping[str, Limits] | None = None
    income_cap: IncomeCap | None = None
    information_return: InformationReturn | None = None
    partner_pays_himself: OwnTax | None = None
    self_billing_needs_agreement: bool = False
    documents: tuple[str, ...] = ()
    unconfirmed: tuple[str, ...] = ()


@dataclass(frozen=True)
class Regime:
    code: str
    title: str
    country: str
    currency: str
    notes: tuple[str, ...]
    versions: tuple[Version, ...]  # oldest first


def version_in_force(regime: Regime, on_date: date) -> Version | None:
    """The latest version that took effect on or before the date, or None (none yet, or it has lapsed)."""
    current = None
    for version in regime.versions:
        if version.effective_from <= on_date:
            current = version
    if current is not None and current.valid_until is not None and on_date > current.valid_until:
        return None
    return current
