"""Importing products from a CSV or XLSX file, idempotent by SKU and row by row.

Row-isolated: every row is checked by the API's own ProductIn and saved with the same apply_product a POST
or PATCH uses; a row that fails is reported with its number and reason and the others are saved, all in one
transaction. A row whose SKU exists updates that product, and one that matches it already changes nothing,
so importing the same file twice (or the corrected file after a rejection) is safe. A file that cannot be
read at all (ImportFileError) imports nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pydantic import ValidationError
from sqlalchemy.exc import IntegrityError

from channel.catalog.models import Product
from channel.catalog.products import CatalogueError, apply_product, find_product
from channel.catalog.schemas import ProductIn
from channel.catalog.sheets import ImportFileError, SheetRow, read_sheet
from core.db import db


@dataclass(frozen=True)
class Rejection:
    row: int
    sku: str | None
    reason: str


@dataclass
class ImportReport:
    rows_read: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: list[Rejection] = field(default_factory=list)


class ImportRaced(RuntimeError):
    """Another request created one of the file's SKUs meanwhile; nothing was saved, and a retry is safe."""


def describe(error: ValidationError) -> str:
    """Pydantic's errors in the API's words: "field: reason; field: reason"."""
    parts = []
    for item in error.errors(include_url=False, include_input=False):
        where = ".".join(str(part) for part in item.get("loc", ()))
        parts.append(f"{where}: {item['msg']}" if where else item["msg"])
    return "; ".join(parts)


def import_products(data: bytes, actor: str) -> ImportReport:
    """Read the file and save each valid row; ImportFileError if the file is unreadable, ImportRaced on a race."""
    rows = read_sheet(data)
    report = ImportReport(rows_read=len(rows))
    first_row_of: dict[str, int] = {}
    for row in rows:
        outcome = _import_row(row, first_row_of, actor)
        if isinstance(outcome, Rejection):
            report.rejected.append(outcome)
        else:
            setattr(report, outcome, getattr(report, outcome) + 1)
    try:
        db.session.commit()
    except IntegrityError:
        # The unique SKU is the arbiter when an import and a POST (or two imports) create one SKU at once.
        db.session.rollback()
        raise ImportRaced("another request created one of these SKUs at the same moment; import again") from None
    return report


def _import_row(row: SheetRow, first_row_of: dict[str, int], actor: str) -> Rejection | str:
    """ "created", "updated" or "unchanged", or why the row was rejected."""
    raw_sku = row.values.get("sku")
    sku = str(raw_sku).strip().upper() if raw_sku is not None else None
    if row.problem:
        return Rejection(row.number, sku, row.problem)
    try:
        product_in = ProductIn.model_validate(row.values)
    except ValidationError as error:
        return Rejection(row.number, sku, describe(error))
    if product_in.sku in first_row_of:
        reason = f"SKU {product_in.sku} is also on row {first_row_of[product_in.sku]}; a file lists each SKU once"
        return Rejection(row.number, product_in.sku, reason)
    first_row_of[product_in.sku] = row.number
    # A blank eligible_to means no end and a blank active means active, as a POST leaving them out does.
    fields = product_in.model_dump(exclude={"sku"})
    existing = find_product(product_in.sku)
    product = existing or Product(sku=product_in.sku)
    try:
        changed = apply_product(product, fields, actor)
    except CatalogueError as error:
        return Rejection(row.number, product_in.sku, str(error))
    if existing is None:
        db.session.add(product)
        return "created"
    return "updated" if changed else "unchanged"


__all__ = ["ImportFileError", "ImportRaced", "ImportReport", "Rejection", "import_products"]
