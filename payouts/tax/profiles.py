"""Tax profiles: checking one before it is stored, and saying whether a partner can be paid on a date.

``clean_profile`` turns what finance typed into what is stored (compact numbers, upper-case countries,
forms sorted) or refuses it with every problem at once, each named by field. ``payability`` is what the
payout batches ask before they pay anyone: the reason a partner cannot be paid, or None.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import Decimal

import pycountry
from sqlalchemy import select

from core.db import db
from payouts.tax import numbers
from payouts.tax.engine.inputs import InputsInvalid, check_for_regime, checked_types
from payouts.tax.engine.quote import TaxQuote, active_regimes, quote
from payouts.tax.engine.regimes import Regime
from payouts.tax.models import TaxProfile

# The US forms the payer must hold before paying under these regimes (a W-8BEN from a person, a
# W-8BEN-E from an entity). Codes of payouts/tax/engine/tax_regimes.json; a test checks they are still there.
# us_backup_withholding needs none: it is the regime for payees who gave no valid TIN.
W8_REGIMES = ("us_foreign_w8",)
W9_REGIMES = ("us_w9",)


class ProfileInvalid(ValueError):
    """``problems`` maps each field (``regime_inputs.treaty_rate``, ``forms[0].expires_on``) to a reason."""

    def __init__(self, problems: dict[str, str]):
        super().__init__("; ".join(f"{field}: {reason}" for field, reason in problems.items()))
        self.problems = problems


def find_profile(partner_id: int) -> TaxProfile | None:
    return db.session.scalar(select(TaxProfile).where(TaxProfile.partner_id == partner_id))


def engine_inputs(profile: TaxProfile) -> dict:
    """What the engine's ``quote`` reads as its profile: the regime inputs plus the self-billing agreement."""
    return {**profile.regime_inputs, **_facts(profile.self_billing_agreement)}


def _facts(self_billing_agreement: bool) -> dict:
    # Kept as a column because it is a signed agreement, not a tax setting; the engine reads it as an
    # input, and absent means no.
    return {"self_billing_agreement": True} if self_billing_agreement else {}


def clean_profile(data: dict, *, today: date, regimes: Mapping[str, Regime] | None = None) -> dict:
    """The profile as stored, or ProfileInvalid naming every bad field."""
    regimes = active_regimes() if regimes is None else regimes
    cleaned, problems = dict(data), {}
    country = data["country"].strip().upper()
    cleaned["country"] = country
    if pycountry.countries.get(alpha_2=country) is None:
        problems["country"] = f"{data['country']!r} is not an ISO 3166 alpha-2 country code"
    else:
        _clean_numbers(cleaned, problems)
    _check_vat_pairing(cleaned, problems)
    cleaned["account_holder"] = _blank_to_none(data.get("account_holder"))
    cleaned["forms"] = _clean_forms(data.get("forms") or [], today, problems)
    cleaned["regime_inputs"] = _clean_inputs(cleaned, regimes, today, problems)
    if problems:
        raise ProfileInvalid(problems)
    return cleaned


def _clean_numbers(cleaned: dict, problems: dict) -> None:
    country, kind = cleaned["country"], cleaned["kind"]
    checks = {
        "tax_id": lambda value: numbers.tax_id(country, kind, value),
        "vat_number": lambda value: numbers.vat_number(country, value),
        "iban": numbers.iban,
        "bic": numbers.bic,
    }
    for field, check in checks.items():
        value = _blank_to_none(cleaned.get(field))
        try:
            cleaned[field] = None if value is None else check(value)
        except numbers.NumberInvalid as error:
            problems[field] = str(error)


def _check_vat_pairing(cleaned: dict, problems: dict) -> None:
    cleaned["vat_number"] = _blank_to_none(cleaned.get("vat_number"))
    if cleaned["vat_registered"] and cleaned["vat_number"] is None:
        problems.setdefault("vat_number", "required when vat_registered is true")
    if not cleaned["vat_registered"] and cleaned["vat_number"] is not None:
        problems.setdefault("vat_registered", "must be true when a vat_number is given")


def _clean_forms(forms: list[dict], today: date, problems: dict) -> list[dict]:
    cleaned = []
    for index, form in enumerate(forms):
        where, name, signed, expires = f"forms[{index}]", form["form"], form["signed_on"], form.get("expires_on")
        if signed > today:
            problems[f"{where}.signed_on"] = f"{signed} is in the future"
        if expires is None and name.startswith("W-8"):
            # Not defaulted: the usual end (31 December of the third year after signing) has exceptions.
            problems[f"{where}.expires_on"] = (
                f"a {name} needs expires_on; usually 31 December of the third "
                f"year after signing ({date(signed.year + 3, 12, 31)})"
            )
        elif expires is not None and expires <= signed:
            problems[f"{where}.expires_on"] = f"{expires} is not after signed_on {signed}"
        cleaned.append(
            {
                "form": name,
                "signed_on": signed.isoformat(),
                "expires_on": None if expires is None else expires.isoformat(),
            }
        )
    return sorted(cleaned, key=lambda form: form["signed_on"])


def _clean_inputs(cleaned: dict, regimes: Mapping[str, Regime], today: date, problems: dict) -> dict:
    code, inputs = cleaned["regime_code"], dict(cleaned.get("regime_inputs") or {})
    regime = regimes.get(code)
    if regime is None:
        problems["regime_code"] = f"unknown tax regime {code!r}; the presets have {', '.join(regimes)}"
        return inputs
    if "self_billing_agreement" in inputs:
        problems["regime_inputs.self_billing_agreement"] = "set it as the profile's self_billing_agreement"
        return inputs
    try:
        inputs = checked_types(inputs, regimes)
        check_for_regime(regime, inputs, today, _facts(cleaned.get("self_billing_agreement", False)))
    except InputsInvalid as error:
        problems.update({_input_field(key): reason for key, reason in error.problems.items()})
    return inputs


def _input_field(key: str) -> str:
    return f"regime_inputs.{key}" if key else "regime_inputs"


def _blank_to_none(value: str | None) -> str | None:
    return (value.strip() or None) if isinstance(value, str) else value


def payability(
    profile: TaxProfile | None,
    on_date: date,
    regimes: Mapping[str, Regime] | None = None,
    priced: TaxQuote | None = None,
) -> str | None:
    """Why the partner cannot be paid on this date, or None when nothing stands in the way.

    ``priced`` is a quote the caller already ran under this profile for this date (a batch line's own):
    it answers in place of the zero probe, so the engine runs once. A quote blocked by its amount (an
    income cap passed) answers with that reason.
    """
    if profile is None:
        return "the partner has no tax profile"
    regimes = active_regimes() if regimes is None else regimes
    if profile.regime_code not in regimes:
        return f"the tax profile's regime {profile.regime_code!r} is not in the presets"
    if priced is None:
        # A zero payout runs every profile-dependent rule of the version in force on the date, and tells
        # the currency (a country's VAT rate may decide it).
        priced = quote(
            profile.regime_code,
            Decimal(0),
            basis="gross",
            payout_date=on_date,
            profile=engine_inputs(profile),
            regimes=regimes,
        )
    if priced.blocked:
        return priced.blocked_reason
    return _form_problem(profile, on_date) or bank_transfer_problem(profile, priced.currency)


def required_form(profile: TaxProfile) -> str | None:
    if profile.regime_code in W9_REGIMES:
        return "W-9"
    if profile.regime_code in W8_REGIMES:
        return "W-8BEN-E" if profile.kind == "company" else "W-8BEN"
    return None


def _form_problem(profile: TaxProfile, on_date: date) -> str | None:
    name = required_form(profile)
    if name is None:
        return None
    if name == "W-9" and not profile.tax_id:
        return "a W-9 payee needs a valid TIN in the tax profile (without one, use us_backup_withholding)"
    signed = [
        form for form in profile.forms if form["form"] == name and date.fromisoformat(form["signed_on"]) <= on_date
    ]
    if not signed:
        return f"no {name} signed on or before {on_date} on file (regime {profile.regime_code})"
    if any(form["expires_on"] is None or date.fromisoformat(form["expires_on"]) >= on_date for form in signed):
        return None
    latest = max(form["expires_on"] for form in signed)
    return f"the {name} on file expired on {latest}; collect a new one"


def bank_transfer_problem(profile: TaxProfile | None, currency: str) -> str | None:
    """Why a payout in this currency cannot go by bank transfer to this profile, or None."""
    if currency != "EUR":
        return None  # only EUR payouts go by IBAN transfer; other rails are checked by their exports
    if profile is None or not profile.iban:
        return "no IBAN on file for a EUR bank transfer"
    try:
        numbers.iban(profile.iban)
    except numbers.NumberInvalid as error:
        return f"the IBAN on file cannot take a EUR bank transfer: {error}"
    if not profile.account_holder:
        return "no account holder on file: a EUR bank transfer names the beneficiary"
    return None
