"""Reading hand-written JSON (tax presets, commission plans) so every complaint names the field by its path.

People edit these by hand; the message must let them find the mistake without reading code. Each
reader marks the keys it reads, and ``finish()`` refuses the rest: a misspelt key would otherwise be
ignored without a word.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any, Literal, NoReturn, Self, overload


class JsonFields:
    """One JSON object: typed getters raising ``error`` with "<where>: <path>: <problem>"."""

    error: type[ValueError] = ValueError

    def __init__(self, data: Any, where: str, path: str = ""):
        self.where, self.path = where, path
        if not isinstance(data, dict):
            raise self.error(f"{self._at(None)}expected an object, got {shown(data)}")
        self.data: dict[str, Any] = data
        self.used: set[str] = set()

    def _name(self, key: str | None) -> str:
        return ".".join(part for part in (self.path, key) if part)

    def _at(self, key: str | None) -> str:
        name = self._name(key)
        return f"{self.where}: {name}: " if name else f"{self.where}: "

    def fail(self, key: str | None, problem: str) -> NoReturn:
        raise self.error(f"{self._at(key)}{problem}")

    def _raw(self, key: str, kind: type, required: bool, kind_name: str) -> Any:
        self.used.add(key)
        value = self.data.get(key)
        if value is None:
            if required:
                self.fail(key, "is required")
            return None
        # bool is an int in Python; a flag where a number belongs is still a mistake.
        if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
            self.fail(key, f"must be {kind_name}, got {shown(value)}")
        return value

    @overload
    def text(self, key: str, required: Literal[True] = True) -> str: ...
    @overload
    def text(self, key: str, required: bool) -> str | None: ...
    def text(self, key: str, required: bool = True) -> str | None:
        value: str | None = self._raw(key, str, required, "a string")
        if value is not None and not value.strip():
            self.fail(key, "must not be blank")
        return value

    @overload
    def items(self, key: str, required: Literal[True] = True) -> list[Any]: ...
    @overload
    def items(self, key: str, required: bool) -> list[Any] | None: ...
    def items(self, key: str, required: bool = True) -> list[Any] | None:
        value: list[Any] | None = self._raw(key, list, required, "a list")
        return value

    def nested(self, data: Any, name: str) -> Self:
        """The object ``data`` found under ``name``, read with this reader's kind and place."""
        reader = object.__new__(type(self))
        JsonFields.__init__(reader, data, self.where, self._name(name))
        return reader

    def finish(self) -> None:
        unknown = sorted(set(self.data) - self.used)
        if unknown:
            self.fail(None, f"unknown field(s) {', '.join(map(repr, unknown))} (misspelt?)")


def shown(value: Any) -> str:
    if isinstance(value, Decimal):  # a JSON number, parsed as Decimal by the loader
        return str(value)
    return json.dumps(value, default=str)
