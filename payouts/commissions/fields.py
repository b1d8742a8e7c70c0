"""Reading one object of a commission plan, so every complaint names the field by its path.

Admins write plans by hand (or through a form that passes their JSON on); the message must let them find
the mistake without reading code, e.g. ``commission plan: events.sale.by_tier.gold.percent: ...``.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Literal, overload

from core.json_fields import JsonFields, shown
from core.money import InvalidAmount, minor_digits, parse_decimal, to_minor


class PlanError(ValueError):
    """The commission plan is malformed; the message names the field."""


class Fields(JsonFields):
    """One JSON object of a plan: typed getters, and ``finish()`` refuses keys nobody read."""

    error = PlanError

    def __init__(self, data, path: str = ""):
        super().__init__(data, "commission plan", path)

    def has(self, key: str) -> bool:
        return self.data.get(key) is not None

    def choice(self, key: str, choices: tuple[str, ...], default: str | None = None) -> str:
        if default is None:
            value = self.text(key)
        else:
            found = self.text(key, required=False)
            if found is None:
                return default
            value = found
        if value not in choices:
            self.fail(key, f"must be one of {', '.join(map(repr, choices))}, got {value!r}")
        return value

    @overload
    def count(self, key: str, required: Literal[True] = True) -> int: ...
    @overload
    def count(self, key: str, required: bool) -> int | None: ...
    def count(self, key: str, required: bool = True) -> int | None:
        value = self._raw(key, int, required, "a whole number")
        if value is not None and value < 0:
            self.fail(key, f"must not be negative, got {value}")
        return value

    @overload
    def percent(self, key: str, required: Literal[True] = True) -> Decimal: ...
    @overload
    def percent(self, key: str, required: bool) -> Decimal | None: ...
    def percent(self, key: str, required: bool = True) -> Decimal | None:
        """A percentage written as a string, "8" for 8%; above 100 is surely a typo for a commission."""
        value = self._raw(key, str, required, 'a decimal string like "8" for 8% (never a JSON number)')
        if value is None:
            return None
        number = _decimal(self, key, value)
        if number > 100:
            self.fail(key, f"{value!r} is more than 100%")
        return number

    @overload
    def money_minor(self, key: str, currency: str, required: Literal[True] = True) -> int: ...
    @overload
    def money_minor(self, key: str, currency: str, required: bool) -> int | None: ...
    def money_minor(self, key: str, currency: str, required: bool = True) -> int | None:
        """An amount in the plan's currency, written as a string, kept as exact minor units."""
        value = self._raw(key, str, required, 'a decimal string like "50.00" (never a JSON number)')
        if value is None:
            return None
        _decimal(self, key, value)
        try:
            return to_minor(value, currency)
        except InvalidAmount as error:
            self.fail(key, str(error))

    def currency(self, key: str) -> str:
        code = self.text(key)
        try:
            minor_digits(code)
        except InvalidAmount as error:
            self.fail(key, str(error))
        return code

    def child(self, key: str, required: bool = False) -> Fields | None:
        value = self._raw(key, dict, required, "an object")
        return None if value is None else Fields(value, self._name(key))

    def entries(self, key: str) -> dict[str, Fields]:
        """An object of named objects (tiers, partners, events), each as Fields; empty if absent."""
        value = self._raw(key, dict, False, "an object") or {}
        for name in value:
            if not name.strip():
                self.fail(key, "names must not be blank")
        return {name: Fields(entry, self._name(f"{key}.{name}")) for name, entry in value.items()}

    def texts(self, key: str) -> tuple[str, ...] | None:
        values = self._raw(key, list, False, "a list of strings")
        if values is not None and not all(isinstance(value, str) and value.strip() for value in values):
            self.fail(key, f"must list non-blank strings, got {shown(values)}")
        return None if values is None else tuple(values)


def _decimal(fields: Fields, key: str, value: str) -> Decimal:
    try:
        number = parse_decimal(value)
    except InvalidAmount:
        # Every number in a plan is a decimal string, so that is what the author is told it is not.
        fields.fail(key, f"{value!r} is not a decimal number")
    if number < 0:
        fields.fail(key, f"{value!r} must be a finite number, not negative")
    return number
