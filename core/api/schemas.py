"""Request shapes every API shares: strict objects, list paging, and a currency code."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from functools import cache
from typing import Annotated, Any, ClassVar, get_args

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

# Shape only; whether the code is a real ISO 4217 currency is checked where the amount is read.
Currency = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]

# C0 control characters and DEL. PostgreSQL refuses NUL in text outright (one such value once stopped
# every write it reached), and none of them belongs in a name, code, id or URL. Prose a person types in a
# text box keeps its tabs and line breaks.
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_CONTROL_IN_PROSE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _find_control(value: object, pattern: re.Pattern[str], path: str, into_objects: bool) -> tuple[str, str] | None:
    """The path and character of the first control character in a string, list or object, if any.

    Keys are always read; values of an object only when ``into_objects``, since an object that is a
    nested Strict model checks itself and reports the exact field.
    """
    if isinstance(value, str):
        found = pattern.search(value)
        return (path, found.group()) if found else None
    if isinstance(value, dict):
        for key, item in value.items():
            inner = f"{path}.{key}"
            hit = _find_control(key, pattern, inner, into_objects)
            if hit is None and into_objects:
                hit = _find_control(item, pattern, inner, into_objects)
            if hit is not None:
                return hit
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            hit = _find_control(item, pattern, f"{path}.{index}", into_objects)
            if hit is not None:
                return hit
    return None


def _mentions_strict_model(annotation: object) -> bool:
    if isinstance(annotation, type) and issubclass(annotation, Strict):
        return True
    return any(_mentions_strict_model(arg) for arg in get_args(annotation))


@cache
def _holds_strict_model(model: type[BaseModel], field_name: str) -> bool:
    field = model.model_fields.get(field_name)
    return field is not None and _mentions_strict_model(field.annotation)


def _mentions_date(annotation: object) -> bool:
    if isinstance(annotation, type) and issubclass(annotation, date):  # datetime is a date too
        return True
    return any(_mentions_date(arg) for arg in get_args(annotation))


@cache
def _holds_date(model: type[BaseModel], field_name: str) -> bool:
    field = model.model_fields.get(field_name)
    return field is not None and _mentions_date(field.annotation)


# Dates a request may name. Code adds and subtracts days and windows (a range's end plus a day, a year of
# lead window); at the edges of Python's dates (years 1 and 9999) that was an OverflowError, a 500.
YEAR_MIN, YEAR_MAX = 1900, 2999

# Pydantic reads a number, or text holding one, given for a date or date-time as seconds since 1970:
# ``to=0`` in a query was taken as 1970-01-01 instead of being refused. Other text it parses as ISO 8601.
_NUMBER_TEXT = re.compile(r"\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*")


class Strict(BaseModel):
    """A request body or query: an unknown field is refused, never silently ignored, no string anywhere in
    it may hold a control character, and a date is ISO 8601 text in the years YEAR_MIN to YEAR_MAX."""

    model_config = ConfigDict(extra="forbid")

    # Fields a person writes as prose (why a conversion changed status, was reassigned, an adjustment):
    # tabs and line breaks are allowed there. Names, codes, ids, URLs and keys are one line.
    multiline_fields: ClassVar[frozenset[str]] = frozenset({"reason"})

    @field_validator("*", mode="before")
    @classmethod
    def _refuse_control_characters(cls, value: Any, info: ValidationInfo) -> Any:
        name = info.field_name or ""
        pattern = _CONTROL_IN_PROSE if name in cls.multiline_fields else _CONTROL
        hit = _find_control(value, pattern, name, into_objects=not _holds_strict_model(cls, name))
        if hit is not None:
            path, char = hit
            # The path may run through an object key that holds the character; it is shown escaped.
            where = "" if path == name else " at " + _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", path)
            raise PydanticCustomError(
                "control_character",
                "must not contain control characters (found U+{code}{where})",
                {"code": f"{ord(char):04X}", "where": where},
            )
        return value

    @field_validator("*", mode="before")
    @classmethod
    def _dates_as_iso_text(cls, value: Any, info: ValidationInfo) -> Any:
        if not _holds_date(cls, info.field_name or ""):
            return value
        if isinstance(value, int | float | Decimal) or (isinstance(value, str) and _NUMBER_TEXT.fullmatch(value)):
            raise PydanticCustomError("iso_date", "must be an ISO 8601 date (2026-01-31) or date-time, not a number")
        return value

    @field_validator("*", mode="after")
    @classmethod
    def _dates_in_range(cls, value: Any) -> Any:
        if isinstance(value, date) and not YEAR_MIN <= value.year <= YEAR_MAX:
            raise PydanticCustomError(
                "date_range", "must be in the years {low} to {high}", {"low": YEAR_MIN, "high": YEAR_MAX}
            )
        return value


class ListQuery(Strict):
    limit: int = Field(100, ge=1, le=1000)
    offset: int = Field(0, ge=0, le=2**31 - 1)  # past the INTEGER range there is nothing left to page through
