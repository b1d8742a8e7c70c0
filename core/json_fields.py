"""Reading hand-written JSON (tax presets, commission plans) so every complaint names the field by its path.

People edit these by hand; the message must let them find the mistake without reading code. Each
reader marks the keys it reads, and ``finish()`` refuses the rest: a misspelt key would otherwise be
ignored without a word.
"""

from __future__ import annotations

import json
from decimal import Decimal


class JsonFields:
    """One JSON object: typed getters raising ``error`` with "<where>: <path>: <problem>"."""

    error: type[ValueError] = ValueError

    def __init__(self, data, where: str, path: str = ""):
        self.where, self.path = where, path
        if not isinstance(data, dict):
            raise self.error(f"{self._at(None)}expected an object, got {shown(data)}")
        self.data, self.used = data, set()

    def _name(self, key: str | None) -> str:
        return ".".join(part for part in (self.path, key) if part)

    def _at(self, key: str | None) -> str:
        name = self._name(key)
        return f"{self.where}: {name}: " if name else f"{self.where}: "

    def fail(self, key: str | None, problem: str):
        raise self.error(f"{self._at(key)}{problem}")

    def _raw(self, key: str, kind: type, required: bool, kind_name: str):
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

    def text(self, key: str, required: bool = True) -> str | None:
        value = self._raw(key, str, required, "a string")
        if value is not None and not value.strip():
            self.fail(key, "must not be blank")
        return value

    def items(self, key: str, required: bool = True) -> list | None:
        return self._raw(key, list, required, "a list")

    def nested(self, data, name: str):
        """The object ``data`` found under ``name``, read with this reader's kind and place."""
        reader = object.__new__(type(self))
        JsonFields.__init__(reader, data, self.where, self._name(name))
        return reader

    def finish(self) -> None:
        unknown = sorted(set(self.data) - self.used)
        if unknown:
            self.fail(None, f"unknown field(s) {', '.join(map(repr, unknown))} (misspelt?)")


def shown(value) -> str:
    if isinstance(value, Decimal):  # a JSON number, parsed as Decimal by the loader
        return str(value)
    return json.dumps(value, default=str)
