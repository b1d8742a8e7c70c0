r"""Serial number formats: a regular expression per product family, checked before it is ever saved.

Python's ``re`` backtracks and has no time limit, and a vendor's admin types these patterns: ``(a+)+b``
against 40 letters would hold a worker for minutes. So a pattern is refused unless it stays in a subset
that cannot backtrack exponentially: no backreferences or lookarounds, and a group repeated by ``*``, ``+``
or ``{m,n}`` holds neither a quantifier nor an alternation (optional groups, ``?``, may hold anything),
and at most MAX_VARIABLE_REPEATS quantifiers may vary in length, since even unnested ones (``\d*\d*\d*...``)
multiply the ways to split a serial.
The pattern always matches the whole serial (``fullmatch``), serials are at most SERIAL_MAX_LENGTH long,
and compiled patterns are cached, so a request never compiles more than once per pattern.
"""

from __future__ import annotations

import re
from functools import lru_cache

from channel.catalog.models import SERIAL_PATTERN_MAX_LENGTH

SERIAL_MAX_LENGTH = 64
MAX_VARIABLE_REPEATS = 4
_REPEAT = re.compile(r"[*+]|\{\d*,?\d*\}")
_FIXED_REPEAT = re.compile(r"\{(\d+)(?:,\1)?\}")
_FORBIDDEN = (
    (re.compile(r"\\[1-9]|\(\?P="), "backreferences are not allowed"),
    (re.compile(r"\(\?<?[=!]"), "lookahead and lookbehind are not allowed"),
    (re.compile(r"\(\?\("), "conditional groups are not allowed"),
)


class SerialPatternInvalid(ValueError):
    """A serial pattern that cannot be saved; the message says why."""


def check_serial_pattern(pattern: str) -> str:
    """The pattern if it is safe to run on serials, else SerialPatternInvalid saying why."""
    if not pattern or len(pattern) > SERIAL_PATTERN_MAX_LENGTH:
        raise SerialPatternInvalid(f"must be 1 to {SERIAL_PATTERN_MAX_LENGTH} characters")
    for forbidden, reason in _FORBIDDEN:
        if forbidden.search(pattern):
            raise SerialPatternInvalid(reason)
    try:
        re.compile(pattern)
    except (re.error, RecursionError, OverflowError) as error:
        raise SerialPatternInvalid(f"is not a regular expression: {error}") from None
    _refuse_repeated_complex_groups(pattern)
    return pattern


def _refuse_repeated_complex_groups(pattern: str) -> None:
    """Walk the pattern once, tracking for each open group whether it holds a quantifier or ``|``."""
    open_groups: list[bool] = []  # per open group: does it hold a quantifier or an alternation?
    variable_repeats = 0
    position = 0
    while position < len(pattern):
        char = pattern[position]
        if char == "\\":
            position += 2
            continue
        if char == "[":
            position = _end_of_class(pattern, position)
            continue
        if char == "(":
            open_groups.append(False)
        elif char == ")":
            complex_group = open_groups.pop()
            repeat = _REPEAT.match(pattern, position + 1)
            if complex_group and repeat and repeat.group() not in ("{0,1}", "{1}", "{,1}"):
                raise SerialPatternInvalid(
                    "a repeated group may not hold a quantifier or '|' (it could backtrack without end); "
                    "write the repetition out or make the group optional with '?'"
                )
            if open_groups:
                open_groups[-1] = open_groups[-1] or complex_group or bool(repeat)
        elif char == "|" or _REPEAT.match(pattern, position) or char == "?":
            if _opens_group(pattern, position):
                position += 1
                continue
            if open_groups:
                open_groups[-1] = True
            if char != "|" and not _FIXED_REPEAT.match(pattern, position):
                variable_repeats += 1
        position += 1
    if variable_repeats > MAX_VARIABLE_REPEATS:
        raise SerialPatternInvalid(f"may hold at most {MAX_VARIABLE_REPEATS} quantifiers of variable length")


def _opens_group(pattern: str, position: int) -> bool:
    """Whether the ``?`` at ``position`` is the one in ``(?:``, ``(?i)`` or ``(?P<name>``, not a quantifier."""
    return pattern[position] == "?" and position > 0 and pattern[position - 1] == "("


def _end_of_class(pattern: str, start: int) -> int:
    """The index just past the character class opening at ``start`` (the pattern compiled, so it closes)."""
    position = start + 1
    if position < len(pattern) and pattern[position] == "^":
        position += 1
    if position < len(pattern) and pattern[position] == "]":
        position += 1
    while pattern[position] != "]":
        position += 2 if pattern[position] == "\\" else 1
    return position + 1


@lru_cache(maxsize=256)
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(check_serial_pattern(pattern))


def serial_matches(pattern: str | None, serial: str) -> bool:
    """Whether ``serial`` fits the family's pattern as a whole; a family without a pattern takes none."""
    if pattern is None or not serial or len(serial) > SERIAL_MAX_LENGTH:
        return False
    return _compiled(pattern).fullmatch(serial) is not None
