"""A sell-out file's columns, and one row read into typed values or the reasons it cannot be.

Nothing here asks the database: the catalogue, the partners and duplicates are checked per batch of rows
(``channel.sellout.checks``). The README's "Sell-out" section documents the columns.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from channel.catalog.serials import SERIAL_MAX_LENGTH
from core.money import InvalidAmount, to_minor

REQUIRED_COLUMNS = (
    "partner_key",
    "distributor_key",
    "invoice_number",
    "invoice_date",
    "line_number",
    "sku",
    "quantity",
    "unit_price",
    "currency",
    "customer_name",
    "ship_to_country",
    "ship_to_postcode",
)
OPTIONAL_COLUMNS = ("serial", "customer_tax_id", "rep_email", "reference_code")
COLUMNS = REQUIRED_COLUMNS + OPTIONAL_COLUMNS
EXAMPLE_ROW = {
    "partner_key": "12",
    "distributor_key": "3",
    "invoice_number": "INV-2026-0042",
    "invoice_date": "2026-11-20",
    "line_number": "1",
    "sku": "RT-100",
    "quantity": "2",
    "unit_price": "189.00",
    "currency": "EUR",
    "customer_name": "Example GmbH",
    "ship_to_country": "DE",
    "ship_to_postcode": "10115",
    "serial": "",
    "customer_tax_id": "DE136695976",
    "rep_email": "rep@reseller.example",
    "reference_code": "",
}
# Every kind of space and dash a person (or a spreadsheet's autocorrect) puts in an invoice number.
_INVOICE_NOISE = re.compile(r"[\s\-\u2010-\u2015\u2212_/.]+")
_COUNTRY = re.compile(r"[A-Z]{2}")
_CURRENCY = re.compile(r"[A-Z]{3}")
TEXT_LIMITS = {
    "invoice_number": 64,
    "customer_name": 200,
    "customer_tax_id": 32,
    "ship_to_postcode": 16,
    "rep_email": 254,
    "reference_code": 64,
    "serial": SERIAL_MAX_LENGTH,
}


def invoice_key(number: str) -> str:
    """An invoice number as duplicates are compared: without spaces, dashes (or _ / .) and case."""
    return _INVOICE_NOISE.sub("", number).upper()


@dataclass
class SaleRow:
    """One row's values, typed; the checks against the catalogue and partners come later."""

    number: int
    partner_id: int
    distributor_id: int
    invoice_number: str
    invoice_key: str
    invoice_date: date
    line_number: int
    sku: str
    quantity: int
    unit_price_minor: int
    currency: str
    customer_name: str
    ship_country: str
    ship_postcode: str
    serial: str | None
    customer_tax_id: str | None
    rep_email: str | None
    reference_code: str | None


def _text(values: dict[str, Any], name: str, problems: list[str]) -> str | None:
    value = values.get(name)
    if value is None:
        return None
    text = str(value).strip()
    if len(text) > TEXT_LIMITS.get(name, 64):
        problems.append(f"{name}: at most {TEXT_LIMITS.get(name, 64)} characters")
    return text or None


def _whole(values: dict[str, Any], name: str, problems: list[str], positive: bool = True) -> int:
    value = values.get(name)
    try:
        number = value if isinstance(value, int) and not isinstance(value, bool) else None
        if number is None and value is not None:
            as_decimal = Decimal(str(value).strip())
            number = int(as_decimal) if as_decimal == as_decimal.to_integral_value() else None
    except (ArithmeticError, ValueError):
        number = None
    if number is None or (positive and number <= 0) or abs(number) > 2**31 - 1:
        kind = "a positive whole number" if positive else "a whole number"
        problems.append(f"{name}: must be {kind}, not {value!r}")
        return 0
    return number


def _date(value: Any, problems: list[str]) -> date:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        problems.append(f"invoice_date: must be an ISO 8601 date (2026-11-20), not {value!r}")
        return date.min


def _price(value: Any, currency: str, problems: list[str]) -> int:
    try:
        return to_minor(value if isinstance(value, int | Decimal) else str(value).strip(), currency)
    except InvalidAmount as error:
        problems.append(f"unit_price: {str(error).replace('amount', 'the price', 1)}")
        return 0


def read_row(number: int, values: dict[str, Any]) -> SaleRow | str:
    """The row typed, or every problem found in it, joined by "; "."""
    problems = [f"{name}: required" for name in REQUIRED_COLUMNS if values.get(name) is None]
    if problems:
        return "; ".join(problems)
    texts = {name: _text(values, name, problems) for name in (*TEXT_LIMITS, "sku", "customer_name")}
    currency = str(values["currency"]).strip().upper()
    country = str(values["ship_to_country"]).strip().upper()
    if not _CURRENCY.fullmatch(currency):
        problems.append(f"currency: must be an ISO 4217 code such as EUR, not {values['currency']!r}")
    if not _COUNTRY.fullmatch(country):
        problems.append(f"ship_to_country: must be an ISO 3166 two-letter code, not {values['ship_to_country']!r}")
    email = texts["rep_email"]
    if email is not None and "@" not in email:
        problems.append(f"rep_email: {email!r} is not an e-mail address")
    row = SaleRow(
        number=number,
        partner_id=_whole(values, "partner_key", problems),
        distributor_id=_whole(values, "distributor_key", problems),
        invoice_number=texts["invoice_number"] or "",
        invoice_key=invoice_key(texts["invoice_number"] or ""),
        invoice_date=_date(values["invoice_date"], problems),
        line_number=_whole(values, "line_number", problems),
        sku=(texts["sku"] or "").upper(),
        quantity=_whole(values, "quantity", problems, positive=False),
        unit_price_minor=_price(values["unit_price"], currency, problems) if _CURRENCY.fullmatch(currency) else 0,
        currency=currency,
        customer_name=texts["customer_name"] or "",
        ship_country=country,
        ship_postcode=texts["ship_to_postcode"] or "",
        # Upper case before the family's format is checked and everywhere after: "sw0001" is SW0001.
        serial=texts["serial"].upper() if texts["serial"] else None,
        customer_tax_id=texts["customer_tax_id"],
        rep_email=email,
        reference_code=texts["reference_code"],
    )
    if not row.invoice_key:
        problems.append("invoice_number: has nothing but spaces and dashes")
    if row.quantity == 0 and not any(p.startswith("quantity") for p in problems):
        problems.append("quantity: must not be zero (a return is negative)")
    return "; ".join(problems) if problems else row


def template_csv() -> str:
    """The header and one example row, as the API and the portal serve them."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(COLUMNS)
    writer.writerow([EXAMPLE_ROW[name] for name in COLUMNS])
    return buffer.getvalue()
