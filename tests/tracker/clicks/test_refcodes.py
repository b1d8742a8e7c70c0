"""Reference codes: readable over the phone, and the check character catches the usual slips."""

from __future__ import annotations

import itertools

import pytest

from tracker.clicks import refcodes
from tracker.clicks.refcodes import ALPHABET, InvalidReference, code_for_click, display, normalize

KEY = b"r" * 32
SAMPLE = [code_for_click(KEY, click_id) for click_id in range(1, 60)]


def test_codes_have_eight_characters_and_an_ordinary_check_character():
    for code in SAMPLE:
        assert len(code) == 9 and set(code) <= set(ALPHABET)
        assert normalize(code) == code
        assert normalize(display(code)) == code


@pytest.mark.parametrize("code", SAMPLE[:20])
def test_any_single_wrong_character_is_caught(code):
    for position in range(len(code)):
        for char in ALPHABET:
            if char == code[position]:
                continue
            with pytest.raises(InvalidReference):
                normalize(code[:position] + char + code[position + 1 :])


@pytest.mark.parametrize("code", SAMPLE)
def test_any_swap_of_two_neighbours_is_caught(code):
    for position in range(len(code) - 1):
        swapped = code[:position] + code[position + 1] + code[position] + code[position + 2 :]
        if swapped == code:
            continue
        with pytest.raises(InvalidReference):
            normalize(swapped)


def test_read_case_insensitively_with_confusable_letters_tolerated():
    code = next(c for c in (code_for_click(KEY, i) for i in itertools.count(1)) if "0" in c[:8] or "1" in c[:8])
    typed = display(code).lower().replace("0", "o").replace("1", "l")
    assert normalize(typed) == code
    assert normalize(" " + typed.replace("-", " ") + " ") == code
    assert normalize(typed.replace("l", "I")) == code


@pytest.mark.parametrize(
    "text, reason",
    [
        ("K7QM-2XRP", "9 characters"),
        ("K7QM-2XRP-5U", "9 characters"),
        ("K7QM-2XRU-5", "not a reference code character"),
        ("", "9 characters"),
    ],
)
def test_malformed_codes_say_why(text, reason):
    with pytest.raises(InvalidReference, match=reason):
        normalize(text)


def test_candidates_are_stable_and_distinct_per_click():
    first = list(itertools.islice(refcodes.candidates(KEY, 7), 5))
    assert first == list(itertools.islice(refcodes.candidates(KEY, 7), 5))
    assert len(set(first)) == 5
    assert code_for_click(KEY, 7, attempt=3) == first[3]
