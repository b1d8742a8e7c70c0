"""Money in and out: exact parsing, minor units, and the two ways an amount is written."""

from __future__ import annotations

from decimal import Decimal

import pytest

from core.money import MAX_AMOUNT_MINOR, InvalidAmount, format_money, major_text, parse_decimal, to_minor


@pytest.mark.parametrize(
    "text, expected",
    [("19.99", Decimal("19.99")), (" -0.5 ", Decimal("-0.5")), (7, Decimal(7)), (Decimal("1.10"), Decimal("1.10"))],
)
def test_parse_decimal_keeps_the_number_written(text, expected):
    parsed = parse_decimal(text)
    assert parsed == expected and str(parsed) == str(expected)


@pytest.mark.parametrize(
    "text, reason",
    [
        (0.1, "0.1 is a float, not an exact decimal string or integer"),
        ("abc", "'abc' is not a number"),
        ("", "'' is not a number"),
        (None, "None is not a number"),
        (True, "True is not a number"),
        ("NaN", "'NaN' is not a finite number"),
        (Decimal("Infinity"), "Infinity is not a finite number"),
    ],
)
def test_parse_decimal_refuses_what_is_not_an_exact_number(text, reason):
    with pytest.raises(InvalidAmount) as refused:
        parse_decimal(text)
    assert str(refused.value) == reason


def test_to_minor_names_the_amount_and_takes_negatives_only_when_signed():
    with pytest.raises(InvalidAmount, match="^amount 'abc' is not a number$"):
        to_minor("abc", "EUR")
    with pytest.raises(InvalidAmount, match="^amount must not be negative$"):
        to_minor("-1.20", "EUR")
    assert to_minor("-1.20", "EUR", signed=True) == -120
    with pytest.raises(InvalidAmount, match="EUR has 2 decimal places; -1.234 has more"):
        to_minor("-1.234", "EUR", signed=True)


@pytest.mark.parametrize(
    "amount_minor, currency, text",
    [
        (1999, "EUR", "19.99"),
        (1900, "EUR", "19.00"),
        (0, "RUB", "0.00"),
        (-80000, "RUB", "-800.00"),
        (1999, "JPY", "1999"),
        (1999, "BHD", "1.999"),
    ],
)
def test_major_text_writes_every_digit_of_the_currency(amount_minor, currency, text):
    assert major_text(amount_minor, currency) == text


@pytest.mark.parametrize(
    "amount_minor, currency, locale, shown",
    [
        (146914, "EUR", "en", "€1,469.14"),
        (100000, "RUB", "en", "RUB1,000.00"),
        (-80000, "RUB", "en", "-RUB800.00"),
        (1999, "JPY", "en", "¥1,999"),
        (1999, "BHD", "en", "BHD1.999"),
        (146914, "EUR", "de", "1.469,14\xa0€"),
        # CLDR would show forints whole; what is paid is shown to the fillér.
        (123456, "HUF", "en", "HUF1,234.56"),
    ],
)
def test_format_money_writes_amounts_for_people_in_their_locale(amount_minor, currency, locale, shown):
    assert format_money(amount_minor, currency, locale) == shown


def test_format_money_refuses_what_is_not_a_currency():
    with pytest.raises(InvalidAmount, match="ISO 4217"):
        format_money(100, "EURO")


@pytest.mark.parametrize("amount", ["1" * 300, "1e999999999", "-10000000000000.01"])
def test_to_minor_refuses_an_amount_no_column_or_total_could_hold(amount):
    # 300 digits once reached the BIGINT column and came back as a 500.
    with pytest.raises(InvalidAmount, match="must not exceed 10000000000000.00 EUR"):
        to_minor(amount, "EUR", signed=True)
    assert to_minor("10000000000000.00", "EUR") == MAX_AMOUNT_MINOR
