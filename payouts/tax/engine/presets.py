"""Reading the tax presets (``tax_regimes.json``) and checking every field before any is used.

Rates and thresholds live in the JSON, never in code, so an operator adds next year's rates by adding a
dated version. A malformed file is refused whole: a half-read preset would quietly compute the wrong
tax. Unknown fields are refused too, because a misspelt one would otherwise be ignored without a word.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Mapping
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType
from typing import Any, TypeVar

from core.money import InvalidAmount, minor_digits
from payouts.tax.engine.fields import Fields, PresetError
from payouts.tax.engine.regimes import (
    Band,
    Charge,
    CountryRate,
    IncomeCap,
    InformationReturn,
    Limits,
    OwnTax,
    Regime,
    Vat,
    Version,
)

T = TypeVar("T")

PRESETS_PATH = Path(__file__).with_name("tax_regimes.json")
FORMAT = 1

__all__ = [
    "PresetError",
    "active_regimes",
    "load_regimes",
    "parse_regimes",
    "preset_regimes",
    "use_regime_source",
]


def load_regimes(path: str | Path = PRESETS_PATH) -> Mapping[str, Regime]:
    """Every regime in a presets file, checked; a malformed file raises PresetError naming the field."""
    path = Path(path)
    try:
        # Numbers parse as Decimal so that a rate written as a JSON number can be refused by name.
        data = json.loads(path.read_text(encoding="utf-8"), parse_float=Decimal)
    except json.JSONDecodeError as error:
        raise PresetError(f"{path.name}: not valid JSON: {error}") from None
    return parse_regimes(data, source=path.name)


@lru_cache(maxsize=1)
def preset_regimes() -> Mapping[str, Regime]:
    """The shipped presets, read once per process."""
    return load_regimes()


_source: Callable[[], Mapping[str, Regime]] | None = None


def use_regime_source(source: Callable[[], Mapping[str, Regime]] | None) -> None:
    """Let the app put operator edits (kept in the database) over the presets; see payouts.tax.regime_store."""
    global _source
    _source = source


def active_regimes() -> Mapping[str, Regime]:
    """The regimes in force: the presets, with the operator's edits once the app has installed them."""
    return _source() if _source is not None else preset_regimes()


def parse_regimes(data: Any, source: str = "presets") -> Mapping[str, Regime]:
    """Regimes from already-decoded presets; ``source`` starts every error message."""
    top = Fields(data, source)
    if top.integer("format", required=True) != FORMAT:
        top.fail("format", f"this engine reads format {FORMAT}")
    top.text("about", required=False)
    regimes: dict[str, Regime] = {}
    for index, item in enumerate(top.items("regimes")):
        code = item.get("code") if isinstance(item, dict) else None
        where = f"{source}: regime {code!r}" if isinstance(code, str) else f"{source}: regimes[{index}]"
        regime = _regime(Fields(item, where))
        if regime.code in regimes:
            raise PresetError(f"{where}: the code is used twice")
        regimes[regime.code] = regime
    top.finish()
    _check_references(regimes, source)
    return MappingProxyType(regimes)


def _regime(fields: Fields) -> Regime:
    code, currency = fields.text("code"), fields.text("currency")
    _check_currency(fields, "currency", currency)
    versions = []
    for index, item in enumerate(fields.items("versions")):
        label = item.get("effective_from") if isinstance(item, dict) else None
        label = f"version {label}" if isinstance(label, str) else f"versions[{index}]"
        versions.append(_version(Fields(item, f"{fields.where}, {label}")))
    if not versions:
        fields.fail("versions", "needs at least one dated version")
    versions.sort(key=lambda version: version.effective_from)
    for earlier, later in itertools.pairwise(versions):
        if earlier.effective_from == later.effective_from:
            fields.fail("versions", f"two versions take effect on {later.effective_from}")
    regime = Regime(
        code=code,
        title=fields.text("title"),
        country=fields.text("country"),
        currency=currency,
        notes=fields.texts("notes"),
        versions=tuple(versions),
    )
    fields.finish()
    return regime


def _version(fields: Fields) -> Version:
    version = Version(
        effective_from=fields.day("effective_from"),
        valid_until=fields.day("valid_until", required=False),
        withholding=_maybe(_charge, fields.child("withholding")),
        contributions=_maybe(_charge, fields.child("contributions")),
        vat=_maybe(_vat, fields.child("vat")),
        reverse_charge=fields.flag("reverse_charge"),
        small_business_limits=_maybe(_limits_by_country, fields.child("small_business_limits")),
        income_cap=_maybe(_income_cap, fields.child("income_cap")),
        information_return=_maybe(_information_return, fields.child("information_return")),
        partner_pays_himself=_maybe(_own_tax, fields.child("partner_pays_himself")),
        self_billing_needs_agreement=fields.flag("self_billing_needs_agreement"),
        documents=fields.texts("documents"),
        unconfirmed=fields.texts("unconfirmed"),
    )
    fields.finish()
    if version.valid_until is not None and version.valid_until < version.effective_from:
        fields.fail("valid_until", "is before effective_from")
    if version.vat is not None and version.reverse_charge:
        fields.fail("reverse_charge", "a reverse-charge version must not also add VAT")
    return version


def _maybe(parse: Callable[[Fields], T], fields: Fields | None) -> T | None:
    return None if fields is None else parse(fields)


def _charge(fields: Fields) -> Charge:
    charge = Charge(
        label=fields.text("label"),
        bands=_bands(fields),
        rounding=fields.quantum("rounding"),
        cumulative=fields.flag("cumulative"),
        starts_at_year_total=fields.decimal("starts_at_year_total", required=False),
        foreign_source_exempt=fields.flag("foreign_source_exempt"),
        treaty_rate_from_profile=fields.flag("treaty_rate_from_profile"),
        base_year=fields.integer("base_year", required=False),
    )
    fields.finish()
    return charge


def _bands(fields: Fields) -> tuple[Band, ...]:
    """A flat "rate" is one open band; "bands" are marginal, each up to its "up_to", the last open."""
    rate = fields.decimal("rate", required=False, fraction=True)
    listed = fields.items("bands", required=False)
    if (rate is None) == (listed is None):
        fields.fail("rate", 'give either "rate" or "bands", not both and not neither')
    if rate is not None:
        return (Band(Decimal(0), None, rate),)
    if not listed:
        fields.fail("bands", "needs at least one band")
    bands, lower = [], Decimal(0)
    for index, item in enumerate(listed):
        band = fields.nested(item, f"bands[{index}]")
        upper, band_rate = band.decimal("up_to", required=False), band.decimal("rate", fraction=True)
        band.finish()
        is_last = index == len(listed) - 1
        if (upper is None) != is_last:
            band.fail("up_to", 'only the last band is open ("up_to": null), and it must be')
        if upper is not None and upper <= lower:
            band.fail("up_to", f"must be above the previous band's {lower}")
        bands.append(Band(lower, upper, band_rate))
        if upper is not None:  # only the last band is open, so nothing follows it
            lower = upper
    return tuple(bands)


def _vat(fields: Fields) -> Vat:
    by_country = fields.child("rates_by_country")
    vat = Vat(
        rounding=fields.quantum("rounding"),
        recoverable=fields.flag("recoverable", required=True),
        rate=fields.decimal("rate", required=False, fraction=True),
        rates_by_country=None
        if by_country is None
        else {country: _country_rate(entry) for country, entry in _by_country(by_country).items()},
        rate_from_profile=fields.text("rate_from_profile", required=False),
        allowed_rates=fields.decimals("allowed_rates", fraction=True),
        exempt_while_last_year_income_at_most=fields.decimal("exempt_while_last_year_income_at_most", required=False),
    )
    fields.finish()
    sources = [vat.rate is not None, vat.rates_by_country is not None, vat.rate_from_profile is not None]
    if sum(sources) != 1:
        fields.fail("rate", 'give exactly one of "rate", "rates_by_country", "rate_from_profile"')
    if vat.rate_from_profile is not None and not vat.allowed_rates:
        fields.fail("allowed_rates", "must list the rates a partner may choose")
    return vat


def _country_rate(fields: Fields) -> CountryRate:
    entry = CountryRate(rate=fields.decimal("rate", fraction=True), currency=fields.text("currency"))
    _check_currency(fields, "currency", entry.currency)
    fields.finish()
    return entry


def _limits_by_country(fields: Fields) -> Mapping[str, Limits]:
    limits = {}
    for country, entry in _by_country(fields).items():
        limits[country] = Limits(entry.decimal("last_year_at_most"), entry.decimal("this_year_at_most"))
        entry.finish()
    return limits


def _by_country(fields: Fields) -> dict[str, Fields]:
    """Entries keyed by country; profiles are matched in upper case, so a key in lower case never would be."""
    entries = fields.mapping_of_all()
    for country in entries:
        if len(country) != 2 or not country.isalpha() or not country.isupper():
            fields.fail(country, 'must be a two-letter country code in capitals, like "DE"')
    return entries


def _income_cap(fields: Fields) -> IncomeCap:
    cap = IncomeCap(fields.decimal("year_total_at_most"), fields.text("otherwise"))
    fields.finish()
    return cap


def _information_return(fields: Fields) -> InformationReturn:
    rule = InformationReturn(
        fields.text("form"), fields.decimal("year_total_at_least"), fields.flag("corporations_exempt", required=True)
    )
    fields.finish()
    return rule


def _own_tax(fields: Fields) -> OwnTax:
    own = OwnTax(fields.text("label"), fields.decimal("rate", fraction=True))
    fields.finish()
    return own


def _check_currency(fields: Fields, key: str, currency: str) -> None:
    try:
        minor_digits(currency)
    except InvalidAmount as error:
        fields.fail(key, str(error))


def _check_references(regimes: Mapping[str, Regime], source: str) -> None:
    for regime in regimes.values():
        for version in regime.versions:
            cap = version.income_cap
            if cap is not None and cap.otherwise not in regimes:
                raise PresetError(
                    f"{source}: regime {regime.code!r}, version {version.effective_from}: "
                    f"income_cap.otherwise: no regime {cap.otherwise!r}"
                )
