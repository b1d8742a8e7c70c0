"""What sell-out will ask the catalogue: points_for, product_on, price_in_band, and serial formats."""

from __future__ import annotations

import time
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from channel.catalog.models import Product, ProductFamily, Promotion
from channel.catalog.products import price_in_band, product_on
from channel.catalog.promotions import apply_multipliers, points_for
from channel.catalog.serials import SerialPatternInvalid, check_serial_pattern, serial_matches
from core.db import db


@pytest.fixture
def router(app) -> Product:
    family = ProductFamily(code="routers", name="Routers", serial_pattern=r"SN-\d{6}")
    other = ProductFamily(code="switches", name="Switches")
    product = Product(
        sku="RT-100",
        name="Router",
        family=family,
        list_price_minor=10000,
        currency="EUR",
        points_per_unit=7,
        eligible_from=date(2026, 1, 1),
        eligible_to=date(2026, 6, 30),
        updated_by="test",
    )
    db.session.add_all([product, other])
    db.session.flush()
    march = {"starts_on": date(2026, 3, 1), "ends_on": date(2026, 3, 31)}
    db.session.add_all(
        [
            Promotion(name="sku", multiplier=Decimal("1.5"), product=product, **march),
            Promotion(
                name="family",
                multiplier=Decimal("1.125"),
                family=family,
                starts_on=date(2026, 3, 15),
                ends_on=date(2026, 4, 15),
            ),
            Promotion(name="gold", multiplier=Decimal("2"), partner_tier="gold", **march),
            Promotion(name="other family", multiplier=Decimal("10"), family=other, **march),
            Promotion(name="silver", multiplier=Decimal("10"), partner_tier="silver", **march),
        ]
    )
    db.session.commit()
    return product


@pytest.mark.parametrize(
    ("on", "tier", "points"),
    [
        (date(2026, 2, 28), None, 70),  # no promotion yet
        (date(2026, 3, 1), None, 105),  # 70 x 1.5
        (date(2026, 3, 1), "gold", 210),  # 70 x 1.5 x 2
        (date(2026, 3, 15), None, 118),  # 70 x 1.5 x 1.125 = 118.125 -> 118
        (date(2026, 3, 31), "gold", 236),  # 70 x 1.5 x 1.125 x 2 = 236.25 -> 236
        (date(2026, 4, 1), "gold", 79),  # 70 x 1.125 = 78.75 -> 79
        (date(2026, 4, 16), "gold", 70),
    ],
)
def test_points_multiply_every_promotion_running_that_day(router, on, tier, points):
    assert points_for(router, 10, on, tier) == points


def test_rounding_is_half_up_once_and_symmetric_for_returns():
    assert apply_multipliers(1, 1, [Decimal("2.5")]) == 3
    assert apply_multipliers(1, 1, [Decimal("2.499")]) == 2
    assert apply_multipliers(1, 3, [Decimal("1.5"), Decimal("1.5")]) == 7  # 6.75, not round(4.5) x 1.5
    assert apply_multipliers(1, -1, [Decimal("2.5")]) == -3  # a return takes back what the sale earned
    assert apply_multipliers(3, 0, [Decimal("9")]) == 0
    # Exact where floats are not: 0.1 x 3 x 35 = 10.5 exactly, so half up gives 11 (floats say 10.499...).
    assert apply_multipliers(35, 3, [Decimal("0.1")]) == 11


multipliers = st.lists(st.decimals(min_value="0.001", max_value="100", places=3), max_size=6)


@settings(database=None, derandomize=True)
@given(points=st.integers(0, 1_000_000), quantity=st.integers(1, 100_000), factors=multipliers)
def test_points_are_monotonic_in_quantity_and_never_negative(points, quantity, factors):
    earned = apply_multipliers(points, quantity, factors)
    assert 0 <= earned <= apply_multipliers(points, quantity + 1, factors)


# The fixture's rows are only read, so sharing them across examples is safe.
@settings(
    max_examples=40,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
    deadline=None,
    database=None,
    derandomize=True,
)
@given(
    quantity=st.integers(1, 10_000),
    day=st.dates(date(2026, 2, 20), date(2026, 4, 20)),
    tier=st.sampled_from([None, "gold", "silver"]),
)
def test_points_for_is_monotonic_over_the_stored_promotions(router, quantity, day, tier):
    earned = points_for(router, quantity, day, tier)
    assert 0 <= earned <= points_for(router, quantity + 1, day, tier)


def test_product_on_answers_active_products_eligible_that_day(router):
    assert product_on("rt-100", date(2026, 1, 1)) is router
    assert product_on("RT-100", date(2026, 6, 30)) is router
    assert product_on("RT-100", date(2025, 12, 31)) is None
    assert product_on("RT-100", date(2026, 7, 1)) is None
    assert product_on("RT-999", date(2026, 3, 1)) is None
    router.active = False
    assert product_on("RT-100", date(2026, 3, 1)) is None


def test_price_band_of_the_family_or_the_program(router):
    # The program's default band: 30% below, 20% above a list price of 100.00 EUR.
    assert price_in_band(router, 7000, "EUR")
    assert price_in_band(router, 12000, "EUR")
    below = price_in_band(router, 6999, "EUR")
    assert not below
    assert below.reason == "unit price 69.99 EUR is outside RT-100's band of 70.00 to 120.00 (list 100.00, -30% / +20%)"
    router.family.price_below_percent, router.family.price_above_percent = Decimal("2.5"), Decimal("0")
    assert price_in_band(router, 9750, "EUR") and price_in_band(router, 10000, "EUR")
    assert not price_in_band(router, 9749, "EUR") and not price_in_band(router, 10001, "EUR")
    other_currency = price_in_band(router, 10000, "USD")
    assert not other_currency and other_currency.reason == "priced in USD; RT-100's list price is in EUR"


def test_serials_match_the_whole_pattern_and_nothing_without_one():
    assert serial_matches(r"SN-\d{6}", "SN-123456")
    assert not serial_matches(r"SN-\d{6}", "SN-1234567")  # anchored at both ends
    assert not serial_matches(r"SN-\d{6}", "xSN-123456")
    assert not serial_matches(r"\d+", "1" * 65)  # longer than any serial
    assert not serial_matches(None, "SN-123456")


@pytest.mark.parametrize(
    ("pattern", "reason"),
    [
        ("(a+)+b", "a repeated group may not hold a quantifier"),
        ("(a|aa)*", "a repeated group may not hold a quantifier"),
        (r"\d*\d*\d*\d*\d*x", "at most 4 quantifiers of variable length"),
        (r"(?=SN)\w+", "lookahead and lookbehind are not allowed"),
        (r"(?P<a>x)(?P=a)", "backreferences are not allowed"),
        ("[", "is not a regular expression"),
        ("", "must be 1 to 200 characters"),
    ],
)
def test_unsafe_or_broken_patterns_are_refused(pattern, reason):
    with pytest.raises(SerialPatternInvalid, match=reason.replace("(", r"\(")):
        check_serial_pattern(pattern)


@pytest.mark.parametrize(
    "pattern", [r"[A-Z]{2}\d{8}", r"SN-\d{6}(-[A-Z])?", r"(?:AB|CD)-\d+", r"(?i)sn[0-9a-f]{12}", "(ab)+"]
)
def test_ordinary_serial_formats_are_accepted_and_run_fast(pattern):
    check_serial_pattern(pattern)
    started = time.perf_counter()
    serial_matches(pattern, "A" * 63 + "!")
    assert time.perf_counter() - started < 0.05
