"""The tax presets: the shipped file covers every regime, and a malformed edit is refused by name."""

from __future__ import annotations

import copy
import json
from datetime import date
from decimal import Decimal as D

import pytest

from payouts.tax.engine.presets import PRESETS_PATH, parse_regimes
from payouts.tax.engine.quote import PresetError, active_regimes, quote, version_in_force

CODES = {
    "ru_individual",
    "ru_self_employed",
    "ru_sole_proprietor_usn",
    "ru_company_osno",
    "ru_nonresident",
    "eu_domestic_vat",
    "eu_reverse_charge",
    "eu_small_business",
    "us_w9",
    "us_backup_withholding",
    "us_foreign_w8",
}


@pytest.fixture
def shipped():
    return json.loads(PRESETS_PATH.read_text(encoding="utf-8"))


def test_shipped_presets_hold_every_regime_with_notes_and_dated_versions():
    regimes = active_regimes()
    assert set(regimes) == CODES
    for regime in regimes.values():
        assert regime.title and regime.notes and regime.versions
        assert [v.effective_from for v in regime.versions] == sorted(v.effective_from for v in regime.versions)


def test_shipped_presets_write_money_and_rates_as_strings():
    def refuse_float(text):
        raise AssertionError(f"JSON number {text} in the presets")

    json.loads(PRESETS_PATH.read_text(encoding="utf-8"), parse_float=refuse_float)


def test_unconfirmed_facts_are_marked_in_the_notes():
    notes = " ".join(active_regimes()["ru_individual"].notes)
    assert "unconfirmed" in notes and "2,759,000" in notes


def test_version_in_force_by_date():
    osno = active_regimes()["ru_company_osno"]
    assert version_in_force(osno, date(2025, 12, 31)).vat.rate == D("0.20")
    assert version_in_force(osno, date(2026, 1, 1)).vat.rate == D("0.22")
    assert version_in_force(osno, date(2024, 12, 31)) is None


def test_an_operator_adds_next_years_base_without_a_release(shipped):
    ru = shipped["regimes"][0]
    next_year = copy.deepcopy(ru["versions"][-1])
    next_year["effective_from"] = "2027-01-01"
    next_year["contributions"]["bands"][0]["up_to"] = "3200000"
    next_year["contributions"]["base_year"] = 2027
    ru["versions"].append(next_year)
    regimes = parse_regimes(shipped)
    result = quote(
        "ru_individual",
        D("100000"),
        basis="gross",
        payout_date=date(2027, 2, 1),
        paid_this_year=D("3100000"),
        regimes=regimes,
    )
    assert result.contributions == D("30000.00") and result.effective_from == date(2027, 1, 1)
    assert not any("base" in warning for warning in result.warnings)


def _break(data, path, value):
    *parents, last = path
    target = data
    for key in parents:
        target = target[key]
    if value is KeyError:
        del target[last]
    else:
        target[last] = value
    return data


VERSION_2026 = ("regimes", 0, "versions", 1)


@pytest.mark.parametrize(
    "path, value, words",
    [
        (VERSION_2026 + ("withholding", "bands", 2, "rate"), "eighteen", ["withholding.bands[2].rate", "'eighteen'"]),
        (VERSION_2026 + ("withholding", "bands", 2, "rate"), "18", ["withholding.bands[2].rate", "below 1"]),
        (VERSION_2026 + ("withholding", "bands", 2, "up_to"), "2000000", ["withholding.bands[2].up_to", "above"]),
        (VERSION_2026 + ("withholding", "bands", 4, "up_to"), "90000000", ["withholding.bands[4].up_to", "open"]),
        (VERSION_2026 + ("withholding", "rounding"), "0.05", ["withholding.rounding", "power of ten"]),
        (VERSION_2026 + ("withholding", "cumulativ"), True, ["withholding", "'cumulativ'", "misspelt"]),
        (VERSION_2026 + ("withholding", "label"), KeyError, ["withholding.label", "required"]),
        (VERSION_2026 + ("effective_from",), "2026-13-01", ["effective_from", "not a date"]),
        (VERSION_2026 + ("effective_from",), "2025-01-01", ["versions", "two versions take effect on 2025-01-01"]),
        (("regimes", 0, "currency"), "RUR", ["regime 'ru_individual'", "currency", "ISO 4217"]),
        (("regimes", 1, "versions", 0, "income_cap", "otherwise"), "ru_nobody", ["income_cap.otherwise", "ru_nobody"]),
        (("regimes", 2, "versions", 0, "vat", "rate"), "0.22", ["regime 'ru_sole_proprietor_usn'", "exactly one"]),
        (
            ("regimes", 5, "versions", 0, "vat", "rates_by_country", "de"),
            {"rate": "0.19", "currency": "EUR"},
            ["regime 'eu_domestic_vat'", "vat.rates_by_country.de", "capitals"],
        ),
        (("format",), 2, ["format", "format 1"]),
    ],
)
def test_malformed_presets_are_refused_naming_the_field(shipped, path, value, words):
    with pytest.raises(PresetError) as refused:
        parse_regimes(_break(shipped, path, value), source="tax_regimes.json")
    message = str(refused.value)
    assert message.startswith("tax_regimes.json")
    for word in words:
        assert word in message, message
    if path[:2] == ("regimes", 0):
        assert "regime 'ru_individual'" in message


def test_presets_that_are_not_json_are_refused(tmp_path):
    from payouts.tax.engine.presets import load_regimes

    broken = tmp_path / "presets.json"
    broken.write_text('{"format": 1, "regimes": [', encoding="utf-8")
    with pytest.raises(PresetError, match="presets.json: not valid JSON"):
        load_regimes(broken)
