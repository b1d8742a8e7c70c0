"""Reading one object of the tax presets, so every complaint names the regime, the version and the field.

Operators edit the presets by hand; the message must let them find the mistake without reading code.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Literal, overload

from core.json_fields import JsonFields, shown


class PresetError(ValueError):
    """The presets are malformed; the message names the file, the regime and the field."""


class Fields(JsonFields):
    """One JSON object of the presets: typed getters, and ``finish()`` refuses keys nobody read."""

    error = PresetError

    def integer(self, key: str, required: bool = False) -> int | None:
        value: int | None = self._raw(key, int, required, "a whole number")
        return value

    def flag(self, key: str, required: bool = False) -> bool:
        return bool(self._raw(key, bool, required, "true or false"))

    @overload
    def decimal(self, key: str, required: Literal[True] = True, fraction: bool = False) -> Decimal: ...
    @overload
    def decimal(self, key: str, required: bool, fraction: bool = False) -> Decimal | None: ...
    def decimal(self, key: str, required: bool = True, fraction: bool = False) -> Decimal | None:
        """A non-negative decimal written as a string; with ``fraction``, a rate below 1 (13% is "0.13")."""
        value = self._raw(key, str, required, 'a decimal string like "0.13" (never a JSON number)')
        return None if value is None else self._number(key, value, fraction)

    def _number(self, key: str, value: str, fraction: bool) -> Decimal:
        try:
            number = Decimal(value)
        except InvalidOperation:
            self.fail(key, f"{value!r} is not a decimal number")
        if not number.is_finite() or number < 0:
            self.fail(key, f"{value!r} must be a finite number, not negative")
        if fraction and number >= 1:
            self.fail(key, f'{value!r} must be a fraction below 1 (write 13% as "0.13")')
        return number

    def decimals(self, key: str, fraction: bool = False) -> tuple[Decimal, ...]:
        values = self._raw(key, list, False, "a list of decimal strings") or []
        if not all(isinstance(value, str) for value in values):
            self.fail(key, f'must list decimal strings like "0.05", got {shown(values)}')
        return tuple(self._number(key, value, fraction) for value in values)

    def quantum(self, key: str) -> Decimal:
        """A rounding unit: a power of ten such as "1" (whole units) or "0.01" (cents)."""
        number = self.decimal(key)
        exponent = number.as_tuple().exponent
        if number == 0 or not isinstance(exponent, int) or number != Decimal(1).scaleb(exponent):
            self.fail(key, f'{str(number)!r} must be a power of ten such as "1" or "0.01"')
        return number

    @overload
    def day(self, key: str, required: Literal[True] = True) -> date: ...
    @overload
    def day(self, key: str, required: bool) -> date | None: ...
    def day(self, key: str, required: bool = True) -> date | None:
        value = self._raw(key, str, required, 'a date "YYYY-MM-DD"')
        if value is None:
            return None
        try:
            return date.fromisoformat(value)
        except ValueError:
            self.fail(key, f'{value!r} is not a date "YYYY-MM-DD"')

    def texts(self, key: str) -> tuple[str, ...]:
        values = self._raw(key, list, False, "a list of strings") or []
        if not all(isinstance(value, str) and value.strip() for value in values):
            self.fail(key, f"must list non-blank strings, got {shown(values)}")
        return tuple(values)

    def child(self, key: str) -> Fields | None:
        value = self._raw(key, dict, False, "an object")
        return None if value is None else self.nested(value, key)

    def mapping_of_all(self) -> dict[str, Fields]:
        """This object as entries keyed by name (a country code, say), each an object itself."""
        self.used.update(self.data)
        return {name: self.nested(value, name) for name, value in self.data.items()}
