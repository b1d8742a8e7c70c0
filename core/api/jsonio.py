"""JSON numbers with a fraction are read as Decimal, so an amount like 199.90 never passes through a float.

Nesting is bounded: no request of this API is deeper than a few levels, and a body of a thousand
nested brackets would otherwise end in a RecursionError (a 500) in the parser or in validation.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from flask.json.provider import DefaultJSONProvider
from werkzeug.exceptions import BadRequest

MAX_JSON_DEPTH = 32


class NestedTooDeep(BadRequest):
    """A JSON document nested deeper than MAX_JSON_DEPTH; a 400 that says so, never a RecursionError."""

    description = f"JSON nested deeper than {MAX_JSON_DEPTH} levels is refused"


def nested_deeper_than(value: Any, limit: int) -> bool:
    """Whether ``value`` has more than ``limit`` levels of objects and arrays; iterative, so depth costs no stack."""
    pending: list[tuple[Any, int]] = [(value, 1)] if isinstance(value, dict | list) else []
    while pending:
        item, depth = pending.pop()
        if depth > limit:
            return True
        children = item.values() if isinstance(item, dict) else item
        pending.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False


class DecimalJSONProvider(DefaultJSONProvider):
    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        kwargs.setdefault("parse_float", Decimal)
        try:
            value = json.loads(s, **kwargs)
        except RecursionError:
            # The parser gives up near Python's recursion limit (about 1,000 levels), far past the bound.
            raise NestedTooDeep() from None
        if nested_deeper_than(value, MAX_JSON_DEPTH):
            raise NestedTooDeep()
        return value
