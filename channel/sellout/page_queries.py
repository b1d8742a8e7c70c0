"""What the sell-out pages read besides the API's answers: who sees an upload, points per upload, a preview's
accepted lines by SKU, and the template file."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import case, func, select

from channel.catalog.models import Product
from channel.points.models import PointsEntry
from channel.sellout.booking import SOURCE_KIND
from channel.sellout.models import SelloutLine
from core.db import db
from tracker.program.models import Partner


def uploader_names(partner_id: int) -> dict[int, str]:
    """The names of the companies whose uploads ``partner_id`` sees: itself and its resellers."""
    statement = select(Partner.id, Partner.name).where((Partner.id == partner_id) | (Partner.parent_id == partner_id))
    return {row.id: row.name for row in db.session.execute(statement)}


def points_by_upload(upload_ids: list[int]) -> dict[int, int]:
    """Points the uploads' lines accrued (the API's ``points_accrued``), in one query for a page of uploads."""
    if not upload_ids:
        return {}
    statement = (
        select(SelloutLine.upload_id, func.sum(PointsEntry.points))
        .join(PointsEntry, (PointsEntry.source_kind == SOURCE_KIND) & (PointsEntry.source_id == SelloutLine.id))
        .where(PointsEntry.kind == "accrued", SelloutLine.upload_id.in_(upload_ids))
        .group_by(SelloutLine.upload_id)
    )
    return {upload_id: int(points or 0) for upload_id, points in db.session.execute(statement)}


@dataclass(frozen=True)
class AcceptedSku:
    sku: str
    name: str
    sales: int  # lines
    units: int
    returns: int  # lines
    points: int  # what the sales earn before the fund's say; a conflicting serial's claim earns nothing


def accepted_summary(upload_id: int) -> list[AcceptedSku]:
    """The upload's accepted lines by SKU."""
    sale = SelloutLine.quantity > 0
    earns = sale & (SelloutLine.serial.is_(None) | SelloutLine.serial_claim.is_not(None))
    statement = (
        select(
            Product.sku,
            Product.name,
            func.count(case((sale, 1))),
            func.coalesce(func.sum(case((sale, SelloutLine.quantity), else_=0)), 0),
            func.count(case((~sale, 1))),
            func.coalesce(func.sum(case((earns, SelloutLine.points), else_=0)), 0),
        )
        .join(Product, Product.id == SelloutLine.product_id)
        .where(SelloutLine.upload_id == upload_id)
        .group_by(Product.sku, Product.name)
        .order_by(Product.sku)
    )
    return [AcceptedSku(sku, name, *(int(n) for n in counts)) for sku, name, *counts in db.session.execute(statement)]
