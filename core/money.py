"""Money on the way in: ISO 4217 codes, exact decimals, integer minor units per currency. Never floats."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Annotated

from iso4217 import Currency
from pydantic import BeforeValidator


class InvalidAmount(ValueError):
    """An amount or currency that cannot be stored exactly; the message says why."""


def minor_digits(currency: str) -> int:
    """How many decimal places the currency has (EUR 2, JPY 0, BHD 3)."""
    try:
        exponent = Currency(currency).exponent
    except ValueError:
        raise InvalidAmount(f"{currency!r} is not an ISO 4217 currency code (upper case, like EUR)") from None
    if exponent is None:
        raise InvalidAmount(f"{currency} is not a currency money can be paid in")
    return exponent


def to_minor(amount, currency: str) -> int:
    """Exact minor units for an amount given as text, integer or Decimal; floats are refused."""
    if isinstance(amount, (float, bool)):
        raise InvalidAmount("amount must be a decimal string or an integer, not a float")
    try:
        value = Decimal(str(amount).strip())
    except InvalidOperation:
        raise InvalidAmount(f"amount {amount!r} is not a number") from None
    if not value.is_finite():
        raise InvalidAmount("amount must be a finite number")
    if value < 0:
        raise InvalidAmount("amount must not be negative")
    digits = minor_digits(currency)
    scaled = value.scaleb(digits)
    if scaled != scaled.to_integral_value():
        raise InvalidAmount(f"{currency} has {digits} decimal places; {amount} has more")
    return int(scaled)


def to_major(amount_minor: int, currency: str) -> Decimal:
    digits = minor_digits(currency)
    return Decimal(amount_minor).scaleb(-digits).quantize(Decimal(1).scaleb(-digits))


def _refuse_float(value):
    # The app reads JSON fractions as Decimal (core/jsonio.py); a float here means exactness was lost.
    if isinstance(value, float):
        raise ValueError('amounts must be exact: send a decimal string or number, e.g. "199.90"')
    return value


# A request field holding money in the major unit: Decimal, never a float.
ExactAmount = Annotated[Decimal, BeforeValidator(_refuse_float)]
