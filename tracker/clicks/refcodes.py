"""Reference codes: short, human, phone-readable handles for a click, like ``K7QM-2XRP-5``.

Eight Crockford base32 characters (40 bits) and a check character. The check is the body's value
modulo 37, Crockford's own scheme: 37 is prime and larger than the alphabet, so any single wrong
character and any swap of two neighbours changes the remainder. Only bodies whose remainder is below 32
are used, so the check is always an ordinary letter or digit that survives being read out or printed.
"""

from __future__ import annotations

import hashlib
import hmac

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_VALUE = {char: index for index, char in enumerate(ALPHABET)}
# Letters people confuse with digits are read as the digit, as Crockford's decoding rules say.
_CONFUSABLE = str.maketrans({"O": "0", "I": "1", "L": "1"})
BODY_LENGTH = 8
CODE_LENGTH = BODY_LENGTH + 1


class InvalidReference(ValueError):
    """Not a reference code, or its check character does not match."""


def _encode(value: int, length: int) -> str:
    chars = []
    for _ in range(length):
        value, digit = divmod(value, 32)
        chars.append(ALPHABET[digit])
    return "".join(reversed(chars))


def _body_value(body: str) -> int:
    value = 0
    for char in body:
        value = value * 32 + _VALUE[char]
    return value


def candidates(key: bytes, click_id: int):
    """Yield the click's possible codes in a fixed order; the first free one becomes its code."""
    counter = 0
    while True:
        digest = hmac.new(key, f"{click_id}:{counter}".encode(), hashlib.sha256).digest()
        value = int.from_bytes(digest[:5], "big")
        counter += 1
        check = value % 37
        if check < 32:
            yield _encode(value, BODY_LENGTH) + ALPHABET[check]


def code_for_click(key: bytes, click_id: int, attempt: int = 0) -> str:
    for index, code in enumerate(candidates(key, click_id)):
        if index == attempt:
            return code
    raise AssertionError("unreachable")


def normalize(text: str) -> str:
    """Return the canonical nine characters of a code typed by a person, or raise InvalidReference."""
    if not isinstance(text, str):
        raise InvalidReference("a reference code is text")
    compact = "".join(text.split()).replace("-", "").upper().translate(_CONFUSABLE)
    if len(compact) != CODE_LENGTH:
        raise InvalidReference("a reference code has 9 characters, like K7QM-2XRP-5")
    unknown = sorted({char for char in compact if char not in _VALUE})
    if unknown:
        raise InvalidReference(f"not a reference code character: {''.join(unknown)}")
    body, check = compact[:BODY_LENGTH], compact[BODY_LENGTH]
    if _body_value(body) % 37 != _VALUE[check]:
        raise InvalidReference("check character does not match: a character is wrong or swapped")
    return compact


def display(code: str) -> str:
    return f"{code[:4]}-{code[4:8]}-{code[8]}"
