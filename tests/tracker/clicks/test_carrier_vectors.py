"""The click carriers against their written specification, computed independently here.

The round-trip tests elsewhere would still pass if issuing and verifying changed together (another MAC,
another counter start); these pin the format a token or a code printed last year must still have.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import struct

import pytest

from tracker.clicks import refcodes, tokens
from tracker.clicks.refcodes import ALPHABET, InvalidReference, code_for_click, normalize
from tracker.clicks.tokens import InvalidToken, issue_token, verify_token


def expected_token(key: bytes, click_id: int, issued_at: int) -> str:
    """README: version (1 byte) | click id (8) | Unix time (4) | HMAC-SHA256 truncated to 12 bytes."""
    body = struct.pack(">BQI", 1, click_id, issued_at)
    tag = hmac.new(key, body, hashlib.sha256).digest()[:12]
    return base64.urlsafe_b64encode(body + tag).rstrip(b"=").decode()


@pytest.mark.parametrize("click_id, issued_at", [(1, 0), (123_456_789_012, 1_700_000_000), (2**63, 2**32 - 1)])
def test_a_token_is_exactly_the_documented_bytes(click_id, issued_at):
    key = os.urandom(32)  # a key no earlier test used, so no cached MAC can stand in for the real one
    token = issue_token(key, click_id, issued_at)
    assert token == expected_token(key, click_id, issued_at)
    assert len(token) == tokens.TOKEN_LENGTH == 34
    claims = verify_token(key, token)
    assert (claims.click_id, claims.issued_at) == (click_id, issued_at)


def test_two_keys_give_two_tags_for_one_click():
    first, second = os.urandom(32), os.urandom(32)
    assert issue_token(first, 7, 1_700_000_000) != issue_token(second, 7, 1_700_000_000)
    with pytest.raises(InvalidToken, match="^signature does not match$"):
        verify_token(second, issue_token(first, 7, 1_700_000_000))


@pytest.mark.parametrize(
    "token, reason",
    [
        ("short", "^a click token is 34 characters$"),
        (None, "^a click token is 34 characters$"),
        ("A" * 33 + "=", "^not base64url$"),
        ("!" * 34, "^not canonical base64url$"),  # base64 skips foreign characters; re-encoding catches it
    ],
)
def test_each_refusal_says_why(token, reason):
    with pytest.raises(InvalidToken, match=reason):
        verify_token(b"k" * 32, token)


def test_a_non_canonical_last_character_is_refused_with_its_reason():
    key = os.urandom(32)
    token = issue_token(key, 42, 1_700_000_000)
    last = token[-1]
    # The last character carries unused low bits: a neighbour in the alphabet may decode to the same
    # bytes, and must still be refused.
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    twin = alphabet[alphabet.index(last) ^ 1]
    with pytest.raises(InvalidToken, match="^(not canonical base64url|signature does not match)$"):
        verify_token(key, token[:-1] + twin)


def test_an_unknown_version_is_named():
    key = os.urandom(32)
    body = struct.pack(">BQI", 2, 5, 1_700_000_000)
    forged = base64.urlsafe_b64encode(body + hmac.new(key, body, hashlib.sha256).digest()[:12]).rstrip(b"=").decode()
    with pytest.raises(InvalidToken, match="^unknown token version 2$"):
        verify_token(key, forged)


def expected_codes(key: bytes, click_id: int, count: int) -> list[str]:
    """Module docstring: HMAC(key, "<click id>:<counter>") from counter 0, the first 40 bits big-endian,
    kept only when value mod 37 is below 32; eight base32 characters and the check character."""
    codes, counter = [], 0
    while len(codes) < count:
        value = int.from_bytes(hmac.new(key, f"{click_id}:{counter}".encode(), hashlib.sha256).digest()[:5], "big")
        counter += 1
        if value % 37 < 32:
            body = "".join(ALPHABET[(value >> shift) & 31] for shift in range(35, -1, -5))
            codes.append(body + ALPHABET[value % 37])
    return codes


def test_codes_are_exactly_the_documented_candidates_in_order():
    key = b"refcode-test-key-" + b"x" * 15
    for click_id in (1, 99, 2**40 + 3):
        assert [code_for_click(key, click_id, attempt) for attempt in range(4)] == expected_codes(key, click_id, 4)


def test_no_issued_code_carries_a_check_outside_the_alphabet():
    key = os.urandom(32)
    seen_checks = set()
    for click_id in range(1, 3000):
        code = code_for_click(key, click_id)
        assert normalize(code) == code
        seen_checks.add(code[-1])
    assert seen_checks == set(ALPHABET)  # every ordinary check character occurs; none beyond them


@pytest.mark.parametrize(
    "text, reason",
    [
        (None, "^a reference code is text$"),
        ("K7QM-2XR", "^a reference code has 9 characters, like K7QM-2XRP-5$"),
        ("K7QM-2XRP-U", "^not a reference code character: U$"),
        ("K7QM2XR*U", "^not a reference code character: \\*U$"),
    ],
)
def test_each_code_refusal_says_why(text, reason):
    with pytest.raises(InvalidReference, match=reason):
        normalize(text)


def test_a_wrong_check_character_is_named():
    code = code_for_click(os.urandom(32), 5)
    wrong = ALPHABET[(ALPHABET.index(code[-1]) + 1) % 32]
    with pytest.raises(InvalidReference, match="^check character does not match: a character is wrong or swapped$"):
        normalize(code[:-1] + wrong)
    assert refcodes.display(code) == f"{code[:4]}-{code[4:8]}-{code[8]}"


def test_a_token_ending_in_a_letter_that_padding_removal_could_eat_is_whole():
    key = b"vector-key-" + b"y" * 21
    endings = {}
    for click_id in range(1, 5000):
        token = issue_token(key, click_id, 1_700_000_000)
        endings.setdefault(token[-1], (click_id, token))
    for click_id, token in endings.values():
        assert token == expected_token(key, click_id, 1_700_000_000)
        assert verify_token(key, token).click_id == click_id
    assert len(endings) > 1
