"""Finance's "what will paying this cost?": one quote from a regime or a partner's profile, for the API and CLI.

A request that cannot be understood (unknown regime or partner, an amount that is not money, an input
of the wrong type) is refused with QuoteRefused. A request the engine understands but cannot price (no
rates for the date, a missing profile input, a cap passed) is answered with the blocked reason: that
is the answer finance asked for, not a mistake in the question.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from core.db import db
from core.money import major_text
from payouts.batches.year_to_date import year_to_date
from payouts.tax.engine.inputs import InputsInvalid, checked_types, inputs_read
from payouts.tax.engine.quote import TaxQuote, active_regimes, quote
from payouts.tax.engine.regimes import Regime, Version
from payouts.tax.profiles import engine_inputs, find_profile, payability
from tracker.program.models import Partner

AMOUNT_FIELDS = ("gross", "withholding", "contributions", "vat", "recoverable_vat", "net_to_partner", "company_cost")


class QuoteRefused(ValueError):
    """The request is wrong; ``field`` names the part to fix."""

    def __init__(self, field_name: str, reason: str):
        super().__init__(f"{field_name}: {reason}")
        self.field, self.reason = field_name, reason


@dataclass(frozen=True)
class QuoteRequest:
    amount: str
    payout_date: date
    regime: str | None = None
    partner_id: int | None = None
    basis: str | None = None  # None: the partner profile's ``pays``
    paid_this_year: str | None = None  # None: what the partner's batches already pay this year, else 0
    inputs: dict = field(default_factory=dict)  # on top of the partner profile's inputs


def run_quote(request: QuoteRequest, regimes: Mapping[str, Regime] | None = None) -> dict:
    """The quote as JSON-ready values: amounts as decimal strings, plus what was asked."""
    regimes = active_regimes() if regimes is None else regimes
    profile = _profile(request.partner_id)
    code = request.regime or (profile.regime_code if profile else None)
    if code is None:
        raise QuoteRefused("regime", "give a regime, or a partner_id whose tax profile names one")
    if code not in regimes:
        raise QuoteRefused("regime", f"unknown tax regime {code!r}; the presets have {', '.join(regimes)}")
    basis = request.basis or (profile.pays if profile else None)
    if basis is None:
        raise QuoteRefused("basis", "give basis 'gross' or 'net' (a partner's profile would supply it)")
    try:
        inputs = {**(engine_inputs(profile) if profile else {}), **checked_types(request.inputs, regimes)}
    except InputsInvalid as error:
        raise QuoteRefused("inputs", str(error)) from None
    try:
        priced = quote(
            code,
            request.amount,
            basis=basis,
            payout_date=request.payout_date,
            paid_this_year=_paid_this_year(request, profile, code, regimes),
            profile=inputs,
            regimes=regimes,
        )
    except (TypeError, ValueError) as error:  # not money: a negative amount, too many decimals
        reason = str(error)  # the engine's message starts with the argument's name
        raise QuoteRefused("paid_this_year" if reason.startswith("paid_this_year") else "amount", reason) from None
    warnings = list(priced.warnings) + _profile_warnings(profile, code, request.payout_date, priced, regimes)
    return _answer(priced, basis, request, warnings)


def _paid_this_year(request: QuoteRequest, profile, code: str, regimes: Mapping[str, Regime]) -> str:
    """The request's figure, else the partner's year-to-date under this regime from its payout batches."""
    if request.paid_this_year is not None:
        return request.paid_this_year
    if profile is None:
        return "0"
    currency = regimes[code].currency
    paid_minor = year_to_date(profile.partner_id, currency, request.payout_date, code)
    return major_text(paid_minor, currency)


def _profile(partner_id: int | None):
    if partner_id is None:
        return None
    if db.session.get(Partner, partner_id) is None:
        raise QuoteRefused("partner_id", f"partner {partner_id} does not exist")
    profile = find_profile(partner_id)
    if profile is None:
        raise QuoteRefused(
            "partner_id", f"partner {partner_id} has no tax profile; PUT one, or quote with a regime and inputs"
        )
    return profile


def _profile_warnings(
    profile, code: str, payout_date: date, priced: TaxQuote, regimes: Mapping[str, Regime]
) -> list[str]:
    if profile is None:
        return []
    if code != profile.regime_code:
        return [f"priced under {code}, not the partner's own regime {profile.regime_code}"]
    reason = payability(profile, payout_date, regimes)
    if reason is None or reason == priced.blocked_reason:
        return []
    return [f"partner {profile.partner_id} cannot be paid on {payout_date}: {reason}"]


def _answer(priced: TaxQuote, basis: str, request: QuoteRequest, warnings: list[str]) -> dict:
    return {
        "regime": priced.regime,
        "currency": priced.currency,
        "effective_from": priced.effective_from,
        "basis": basis,
        "payout_date": request.payout_date,
        "partner_id": request.partner_id,
        **{name: str(getattr(priced, name)) for name in AMOUNT_FIELDS},
        "applied": list(priced.applied),
        "documents": list(priced.documents),
        "warnings": warnings,
        "blocked_reason": priced.blocked_reason,
    }


def regime_summary(regime: Regime) -> dict:
    """A regime as the listing shows it: its notes, the inputs it reads, and every dated version."""
    return {
        "code": regime.code,
        "title": regime.title,
        "country": regime.country,
        "currency": regime.currency,
        "notes": list(regime.notes),
        "inputs": list(inputs_read(regime)),
        "versions": [_version_summary(version) for version in regime.versions],
    }


def _version_summary(version: Version) -> dict:
    rules = {
        name: _plain(value)
        for name, value in vars(version).items()
        if name not in ("effective_from", "valid_until") and value not in (None, False, ())
    }
    return {"effective_from": version.effective_from, "valid_until": version.valid_until, "rules": rules}


def _plain(value):
    """Dataclasses, mappings and tuples as JSON values; Decimals as strings, so no rate becomes a float."""
    if dataclasses.is_dataclass(value):
        return {name: _plain(item) for name, item in vars(value).items() if item is not None}
    if isinstance(value, Mapping):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, (tuple, list)):
        return [_plain(item) for item in value]
    if isinstance(value, (Decimal, date)):
        return str(value)
    return value
