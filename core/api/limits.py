"""Bounds at the API's edge: numbers that fit the columns they are compared with, and id paths that do.

Past these bounds nothing can match (every id is an INTEGER column), yet the database would fail
on the number instead of finding nothing: SQLite cannot hold an integer past 2^63, PostgreSQL refuses
one past 2^31 - 1 in an INTEGER comparison or an OFFSET past 2^63. So such a number is refused where it
comes in: an id in a path names no row (404), a query value is answered 422 with the field named.
"""

from __future__ import annotations

from typing import Annotated

from flask import Flask
from pydantic import Field
from werkzeug.routing import IntegerConverter

INT_COLUMN_MIN = -(2**31)
INT_COLUMN_MAX = 2**31 - 1

# An id as a query or body value: the range of the INTEGER column it is compared with.
RowId = Annotated[int, Field(ge=INT_COLUMN_MIN, le=INT_COLUMN_MAX)]


def digits_up_to(limit: int) -> str:
    """A regular expression for the decimal numbers 0..limit (leading zeros allowed, as Werkzeug's ``\\d+``)."""
    digits = str(limit)
    shorter = [rf"\d{{1,{len(digits) - 1}}}"] if len(digits) > 1 else []
    # Same length: equal to the limit up to some digit, then a smaller digit, then anything.
    below = [rf"{digits[:i]}[0-{int(d) - 1}]\d{{{len(digits) - i - 1}}}" for i, d in enumerate(digits) if d != "0"]
    return "0*(?:" + "|".join([*shorter, *below, digits]) + ")"


class RowIdConverter(IntegerConverter):
    """``<int:...>``: an unsigned number no larger than INTEGER's maximum, so ``/offers/99999999999`` is a 404.

    The bound lives in the pattern, not in ``max``: Werkzeug checks ``max`` after it has picked a rule, and a
    path that another method's rule shares would then be answered 405 instead of 404.
    """

    regex = digits_up_to(INT_COLUMN_MAX)


def init_app(app: Flask) -> None:
    # Every route's ``<int:...>`` is an id; the converter must be in place before any blueprint's rules are added.
    app.url_map.converters["int"] = RowIdConverter
