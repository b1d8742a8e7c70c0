"""Click tokens: short, URL-safe, verifiable without the database, and refused when altered."""

from __future__ import annotations

import re

import pytest

from tracker.clicks.tokens import TOKEN_LENGTH, InvalidToken, issue_token, verify_token

KEY = b"k" * 32
B64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


@pytest.mark.parametrize("click_id, issued_at", [(1, 0), (2**63 - 1, 2**32 - 1), (123456789012345, 1_795_000_000)])
def test_round_trip_is_short_and_url_safe(click_id, issued_at):
    token = issue_token(KEY, click_id, issued_at)
    assert len(token) == TOKEN_LENGTH == 34
    assert re.fullmatch(r"[A-Za-z0-9_-]+", token)
    claims = verify_token(KEY, token)
    assert (claims.click_id, claims.issued_at) == (click_id, issued_at)


def test_every_altered_character_is_refused():
    token = issue_token(KEY, 987654321987, 1_795_000_000)
    for position, original in enumerate(token):
        for replacement in B64URL:
            if replacement == original:
                continue
            altered = token[:position] + replacement + token[position + 1 :]
            with pytest.raises(InvalidToken):
                verify_token(KEY, altered)


def test_token_signed_with_another_key_is_refused():
    token = issue_token(b"other-key" * 4, 42, 1_795_000_000)
    with pytest.raises(InvalidToken, match="signature"):
        verify_token(KEY, token)


@pytest.mark.parametrize("garbage", ["", "abc", "!" * 34, "A" * 33, "A" * 35, None, 12345])
def test_malformed_tokens_are_refused(garbage):
    with pytest.raises(InvalidToken):
        verify_token(KEY, garbage)
