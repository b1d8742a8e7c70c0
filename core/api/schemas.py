"""Request shapes every API shares: strict objects, list paging, and a currency code."""

from __future__ import annotations

import re
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


class Strict(BaseModel):
    """A request body or query: an unknown field is refused, never silently ignored, and no string
    anywhere in it may hold a control character."""

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


class ListQuery(Strict):
    limit: int = Field(100, ge=1, le=1000)
    offset: int = Field(0, ge=0, le=2**31 - 1)  # past the INTEGER range there is nothing left to page through
