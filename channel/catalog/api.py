"""The catalogue over the API: /api/v1/catalog/products and promotions, imports from CSV or XLSX.

Who: the vendor (an advertiser key) and admins write; finance reads; a partner key reads active products,
the families and the promotions open to its tier. Families and promotions live in ``promotion_api``.
"""

from __future__ import annotations

from flask import Blueprint
from spectree import Response
from sqlalchemy import Select, func, or_
from werkzeug.datastructures import FileStorage

from channel.catalog import promotion_api
from channel.catalog.importer import ImportFileError, ImportRaced, import_products
from channel.catalog.models import Product, ProductFamily
from channel.catalog.products import CatalogueError, apply_product, find_product, products_visible_to
from channel.catalog.schemas import (
    ImportForm,
    ImportOut,
    ProductIn,
    ProductList,
    ProductOut,
    ProductPatch,
    ProductQuery,
    RejectedRow,
)
from core.api.auth import actor_name, principal, require_roles
from core.api.errors import ApiError, commit_or_conflict
from core.api.openapi import ERRORS, api_spec
from core.db import db
from core.money import major_text

bp = Blueprint("catalog_api", __name__, url_prefix="/api/v1")
bp.register_blueprint(promotion_api.bp)
WRITERS = ("admin", "advertiser")
READERS = ("admin", "finance", "advertiser", "partner")
SKU_PATH = {"sku": "The product's SKU (any case)."}


def product_out(product: Product) -> ProductOut:
    return ProductOut(
        sku=product.sku,
        name=product.name,
        family=product.family.code,
        list_price=major_text(product.list_price_minor, product.currency),
        currency=product.currency,
        points_per_unit=product.points_per_unit,
        eligible_from=product.eligible_from,
        eligible_to=product.eligible_to,
        active=product.active,
        created_at=product.created_at,
        updated_at=product.updated_at,
    )


def _visible_product(sku: str) -> Product:
    product = find_product(sku)
    if product is None or (principal().role == "partner" and not product.active):
        raise ApiError(404, f"product {sku.strip().upper()!r} not found in the catalogue")
    return product


def _apply(product: Product, fields: dict) -> bool:
    try:
        return apply_product(product, fields, actor_name(principal()))
    except CatalogueError as error:
        raise ApiError(422, str(error)) from None


def filtered_products(role: str, query: ProductQuery) -> Select:
    """The products ``role`` sees by SKU, filtered as the query asks (the catalogue page pages through it too)."""
    statement = products_visible_to(role)
    if query.family is not None:
        statement = statement.join(ProductFamily).where(ProductFamily.code == query.family)
    if query.active is not None:
        statement = statement.where(Product.active.is_(query.active))
    if query.eligible_on is not None:
        day = query.eligible_on
        statement = statement.where(
            Product.eligible_from <= day, or_(Product.eligible_to.is_(None), Product.eligible_to >= day)
        )
    if query.q is not None:
        needle = query.q.lower()
        statement = statement.where(
            or_(
                func.lower(Product.sku).contains(needle, autoescape=True),
                func.lower(Product.name).contains(needle, autoescape=True),
            )
        )
    return statement.order_by(Product.sku).limit(query.limit).offset(query.offset)


@bp.get("/catalog/products")
@require_roles(*READERS)
@api_spec.validate(query=ProductQuery, resp=Response(HTTP_200=ProductList, **ERRORS), tags=["catalog"])
def list_products(query: ProductQuery):
    """Products by SKU, filtered by family, active, a day they are eligible on, or part of SKU or name."""
    statement = filtered_products(principal().role, query)
    return ProductList(items=[product_out(product) for product in db.session.scalars(statement)])


@bp.post("/catalog/products")
@require_roles(*WRITERS)
@api_spec.validate(json=ProductIn, resp=Response(HTTP_201=ProductOut, **ERRORS), tags=["catalog"])
def create_product(json: ProductIn):
    if find_product(json.sku) is not None:
        raise ApiError(409, f"product {json.sku!r} already exists; change it with PATCH")
    product = Product(sku=json.sku)
    _apply(product, json.model_dump(exclude={"sku"}))
    db.session.add(product)
    # Two requests (or a request and an import) may create one SKU at once; the unique SKU decides.
    commit_or_conflict(f"product {json.sku!r} was created by another request at the same moment")
    return product_out(product), 201


@bp.get("/catalog/products/<sku>")
@require_roles(*READERS)
@api_spec.validate(resp=Response(HTTP_200=ProductOut, **ERRORS), tags=["catalog"], path_parameter_descriptions=SKU_PATH)
def get_product(sku: str):
    return product_out(_visible_product(sku))


@bp.patch("/catalog/products/<sku>")
@require_roles(*WRITERS)
@api_spec.validate(
    json=ProductPatch,
    resp=Response(HTTP_200=ProductOut, **ERRORS),
    tags=["catalog"],
    path_parameter_descriptions=SKU_PATH,
)
def update_product(sku: str, json: ProductPatch):
    """Change a product; its SKU is its identity and stays. ``active: false`` withdraws it from partners."""
    product = _visible_product(sku)
    _apply(product, json.model_dump(exclude_unset=True))
    db.session.commit()
    return product_out(product)


@bp.post("/catalog/products/import")
@require_roles(*WRITERS)
@api_spec.validate(form=ImportForm, resp=Response(HTTP_200=ImportOut, **ERRORS), tags=["catalog"])
def import_catalogue(form: ImportForm):
    """Create or update products from a CSV or XLSX ``file`` (multipart/form-data), idempotent by SKU.

    Row by row: valid rows are saved, each rejected row is answered with its number and reason.
    """
    upload = form.file if form is not None else None  # spectree passes None for a body that is not a form
    if not isinstance(upload, FileStorage):
        raise ApiError(400, "send the catalogue as the multipart/form-data field 'file'")
    try:
        report = import_products(upload.read(), actor_name(principal()))
    except ImportFileError as error:
        raise ApiError(422, str(error)) from None
    except ImportRaced as error:
        raise ApiError(409, str(error)) from None
    return ImportOut(
        rows_read=report.rows_read,
        created=report.created,
        updated=report.updated,
        unchanged=report.unchanged,
        rejected=[RejectedRow(row=r.row, sku=r.sku, reason=r.reason) for r in report.rejected],
    )
