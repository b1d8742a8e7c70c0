"""Money in and out: ISO 4217 codes, exact decimals, integer minor units per currency. Never floats.

Amounts come in as text through ``parse_decimal`` (or ``to_minor``, which also fits them to the
currency). They go out in one of two forms: ``major_text`` for machines (API fields, files, postbacks:
"19.99", JPY "1999"), ``format_money`` for people (statements, CLI tables, commission rules in words:
"€19.99", "RUB1,000.00", in the reader's locale).
"""

from __future__ import annotations

from copy import copy
from decimal import Decimal, InvalidOperation
from functools import cache
from typing import Annotated, Any

from babel import Locale
from babel.numbers import NumberPattern, format_currency
from iso4217 import Currency
from pydantic import BeforeValidator


class InvalidAmount(ValueError):
    """An amount or currency that cannot be stored exactly; the message says why."""


# Amount columns are BIGINT (up to about 9.2 * 10**18 minor units) and totals add many amounts up: one amount
# past this bound is refused where it comes in, instead of overflowing a column or a sum later (a 500).
MAX_AMOUNT_MINOR = 10**15


def minor_digits(currency: str) -> int:
    """How many decimal places the currency has (EUR 2, JPY 0, BHD 3)."""
    try:
        exponent = Currency(currency).exponent
    except ValueError:
        raise InvalidAmount(f"{currency!r} is not an ISO 4217 currency code (upper case, like EUR)") from None
    if exponent is None:
        raise InvalidAmount(f"{currency} is not a currency money can be paid in")
    return exponent


def parse_decimal(text: object) -> Decimal:
    """The exact number written in ``text`` (an int or a Decimal passes as it is); InvalidAmount says why not.

    Floats are refused: a float has already lost the amount that was written (0.1 is not 0.1 in binary).
    """
    if isinstance(text, float):
        raise InvalidAmount(f"{text!r} is a float, not an exact decimal string or integer")
    if isinstance(text, bool) or not isinstance(text, (str, int, Decimal)):
        raise InvalidAmount(f"{text!r} is not a number")
    try:
        value = Decimal(text.strip() if isinstance(text, str) else text)
    except InvalidOperation:
        raise InvalidAmount(f"{text!r} is not a number") from None
    if not value.is_finite():
        raise InvalidAmount(f"{text if isinstance(text, Decimal) else repr(text)} is not a finite number")
    return value


def to_minor(amount: object, currency: str, *, signed: bool = False) -> int:
    """Exact minor units for an amount given as text, integer or Decimal; floats are refused.

    Negative amounts only with ``signed``: a conversion never has one, a manual adjustment may charge.
    """
    try:
        value = parse_decimal(amount)
    except InvalidAmount as error:
        raise InvalidAmount(f"amount {error}") from None
    if value < 0 and not signed:
        raise InvalidAmount("amount must not be negative")
    digits = minor_digits(currency)
    largest = to_major(MAX_AMOUNT_MINOR, currency)
    if value.copy_abs() > largest:  # before scaling, and without the context: 1e999999999 would overflow it
        raise InvalidAmount(f"amount must not exceed {largest} {currency} in size")
    scaled = value.scaleb(digits)
    if scaled != scaled.to_integral_value():
        raise InvalidAmount(f"{currency} has {digits} decimal places; {amount} has more")
    return int(scaled)


def to_major(amount_minor: int, currency: str) -> Decimal:
    digits = minor_digits(currency)
    return Decimal(amount_minor).scaleb(-digits).quantize(Decimal(1).scaleb(-digits))


def major_text(amount_minor: int, currency: str) -> str:
    """For machines: the exact amount in major units with every digit the currency has ("19.00", JPY "1999")."""
    return f"{to_major(amount_minor, currency):f}"


def format_money(amount_minor: int, currency: str, locale: str = "en") -> str:
    """For people: the amount as the locale writes money ("€1,469.14" in en, "1.469,14 €" in de)."""
    digits = minor_digits(currency)
    parsed, pattern = _money_pattern(locale, digits)
    return format_currency(
        to_major(amount_minor, currency), currency, format=pattern, locale=parsed, currency_digits=False
    )


@cache
def _money_pattern(locale: str, digits: int) -> tuple[Locale, NumberPattern]:
    # Cached: every accrued commission writes its rule with a few amounts, inside the conversion's request.
    parsed = Locale.parse(locale)
    # CLDR shows some currencies in whole units (HUF, IDR, COP, ...) where ISO 4217 has minor units; a
    # statement must show what is paid to the minor unit, so the locale's pattern keeps the ISO digits.
    pattern = copy(parsed.currency_formats["standard"])
    pattern.frac_prec = (digits, digits)
    return parsed, pattern


def _refuse_float(value: Any) -> Any:
    # The app reads JSON fractions as Decimal (core/api/jsonio.py); a float here means exactness was lost.
    if isinstance(value, float):
        raise ValueError('amounts must be exact: send a decimal string or number, e.g. "199.90"')
    return value


# A request field holding money in the major unit: Decimal, never a float.
ExactAmount = Annotated[Decimal, BeforeValidator(_refuse_float)]
