"""The vendor's catalogue pages: products with import, families, promotions.

For the vendor (an advertiser person) and admins, the roles whose keys write the catalogue. Every form goes
through what the API calls: ProductQuery and ``filtered_products`` for the list, ``import_products`` for a
file, FamilyIn and ``update_family`` for a family, PromotionIn and ``promotion_target`` for a promotion; so
each is refused for the same reasons, in the same words.
"""

from __future__ import annotations

from flask import Blueprint, Flask, current_app, redirect, render_template, request
from flask_babel import lazy_gettext as _l
from pydantic import ValidationError
from sqlalchemy import select
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.wrappers import Response

from channel.catalog.api import filtered_products
from channel.catalog.importer import ImportFileError, ImportRaced, ImportReport, import_products
from channel.catalog.models import ProductFamily, Promotion
from channel.catalog.page_forms import FamilyForm, ImportForm, ProductFilterForm, PromotionForm, family_choices
from channel.catalog.products import update_family
from channel.catalog.promotion_api import promotion_target
from channel.catalog.schemas import FamilyIn, ProductQuery, PromotionIn
from channel.catalog.sheets import COLUMNS, MAX_FILE_BYTES
from core.api.errors import ApiError, commit_or_conflict
from core.api.limits import INT_COLUMN_MAX
from core.db import db
from core.people.access import current_person, require_person
from core.people.navigation import add_portal_page
from tracker.program.portal import field_errors, person_actor, show_errors

bp = Blueprint("catalog_pages", __name__)
PATH = "/portal/catalog"
ROLES = ("advertiser", "admin")
PAGE_SIZE = 50
PROMOTIONS_SHOWN = 100
IMPORT_ENDPOINT = "catalog_pages.import_file"
# The form's token and the multipart framing need a little room besides the file the importer allows.
IMPORT_BODY_BYTES = MAX_FILE_BYTES + 64 * 1024
TEMPLATE_NAME = "catalogue-template.csv"


def _families() -> list[ProductFamily]:
    return list(db.session.scalars(select(ProductFamily).order_by(ProductFamily.code)))


def _promotions() -> list[Promotion]:
    statement = select(Promotion).order_by(Promotion.starts_on.desc(), Promotion.id.desc())
    return list(db.session.scalars(statement.limit(PROMOTIONS_SHOWN)))


def _page_number() -> int:
    # Bounded as the API bounds its offset: a page number from a hand-edited URL must not overflow the query.
    return min(max(request.args.get("page", 1, type=int) or 1, 1), INT_COLUMN_MAX // PAGE_SIZE)


def _products(filters: ProductFilterForm, page: int) -> tuple[list, bool]:
    """One page of products as the API lists them, and whether there is a next; none when a filter is refused."""
    values = filters.query_values() | {"limit": PAGE_SIZE + 1, "offset": (page - 1) * PAGE_SIZE}
    try:
        query = ProductQuery.model_validate(values)
    except ValidationError as error:
        show_errors(filters, field_errors(error))
        return [], False
    person = current_person()
    rows = list(db.session.scalars(filtered_products(person.role if person else "", query)))
    return rows[:PAGE_SIZE], len(rows) > PAGE_SIZE


def _render(
    status: int = 200,
    problems: list[str] | None = None,
    *,
    upload: ImportForm | None = None,
    family_form: FamilyForm | None = None,
    promotion: PromotionForm | None = None,
    **report: object,
) -> tuple[str, int]:
    """The whole page; the forms given keep what was typed and their errors, ``report`` is an import's result."""
    families = _families()
    filters = ProductFilterForm(formdata=request.args)
    filters.family.choices = family_choices(families, str(_l("All")))
    page = _page_number()
    products, has_next = _products(filters, page)
    promotion = promotion or PromotionForm(formdata=None)
    promotion.family.choices = family_choices(families, "—")
    body = render_template(
        "advertiser/catalog.html",
        filters=filters,
        products=products,
        page=page,
        has_next=has_next,
        paging={name: value for name, value in request.args.items() if name != "page" and value},
        families=families,
        promotions=_promotions(),
        upload=upload or ImportForm(formdata=None),
        family_form=family_form or FamilyForm(formdata=None),
        promotion=promotion,
        problems=problems or [],
        created=request.args.get("created"),
        **report,
    )
    return body, 400 if filters.errors and status == 200 else status


@bp.get(PATH)
@require_person(*ROLES)
def catalogue() -> tuple[str, int]:
    return _render()


@bp.get(f"{PATH}/<any(import, families, promotions):form>")
@require_person(*ROLES)
def back_to_the_catalogue(form: str) -> Response:
    # A form's answer is shown at the address it was posted to; the language switch comes back there by GET.
    return redirect(PATH, 303)


@bp.get(f"{PATH}/{TEMPLATE_NAME}")
@require_person(*ROLES)
def import_template() -> Response:
    """The import's header row, from the importer's own column list, ready to fill in a spreadsheet."""
    headers = {"Content-Disposition": f'attachment; filename="{TEMPLATE_NAME}"'}
    return Response(",".join(COLUMNS) + "\r\n", mimetype="text/csv", headers=headers)


@bp.url_value_preprocessor
def allow_import_sized_bodies(endpoint: str | None, values: dict | None) -> None:
    # Runs before the app's before_request hooks, so before the CSRF check first reads the body: only the
    # import may be larger than the site's body limit (MAX_BODY_BYTES), and only by the file it allows.
    if endpoint == IMPORT_ENDPOINT:
        request.max_content_length = max(current_app.config.get("MAX_CONTENT_LENGTH") or 0, IMPORT_BODY_BYTES)


@bp.errorhandler(RequestEntityTooLarge)
def import_too_large(error: RequestEntityTooLarge) -> RequestEntityTooLarge | tuple[str, int]:
    # Raised while the CSRF check reads the body, before require_person: only the catalogue's people get the page.
    person = current_person()
    if request.endpoint != IMPORT_ENDPOINT or person is None or person.role not in ROLES:
        return error
    upload = ImportForm(formdata=None)
    upload.file.errors = [_l("The file is larger than %(mib)s MiB; nothing was imported.", mib=MAX_FILE_BYTES // 2**20)]
    return _render(413, upload=upload)


def _imported(data: bytes, upload: ImportForm) -> ImportReport | None:
    try:
        return import_products(data, person_actor())
    except (ImportFileError, ImportRaced) as error:
        upload.file.errors = [_l("Nothing was imported: %(reason)s.", reason=str(error))]
        return None


@bp.post(f"{PATH}/import")
@require_person(*ROLES)
def import_file() -> tuple[str, int]:
    upload = ImportForm()
    if not upload.validate_on_submit():
        return _render(400, upload=upload)
    report = _imported(upload.file.data.read(), upload)
    if report is None:
        return _render(422, upload=upload)
    return _render(upload=ImportForm(formdata=None), report=report, file_name=upload.file.data.filename)


@bp.post(f"{PATH}/families")
@require_person(*ROLES)
def create_family() -> Response | tuple[str, int]:
    form = FamilyForm()
    if not form.validate_on_submit():
        return _render(400, family_form=form)
    try:
        family_in = FamilyIn.model_validate(form.api_values())
    except ValidationError as error:
        return _render(422, show_errors(form, field_errors(error)), family_form=form)
    family = ProductFamily(code=family_in.code)
    update_family(family, family_in.model_dump())
    db.session.add(family)
    try:
        # Two people may create one code at once; the unique code decides and the loser hears why.
        commit_or_conflict(f"family {family_in.code!r} already exists")
    except ApiError as conflict:
        form.code.errors = [conflict.message]
        return _render(409, family_form=form)
    return redirect(f"{PATH}?created=family#families", 303)


@bp.post(f"{PATH}/promotions")
@require_person(*ROLES)
def create_promotion() -> Response | tuple[str, int]:
    form = PromotionForm()
    form.family.choices = family_choices(_families(), "—")
    if not form.validate_on_submit():
        return _render(400, promotion=form)
    try:
        promotion_in = PromotionIn.model_validate(form.api_values())
        target = promotion_target(promotion_in)
    except ValidationError as error:
        return _render(422, show_errors(form, field_errors(error)), promotion=form)
    except ApiError as unknown:  # a SKU or family not in the catalogue: said next to the one named
        (form.sku if promotion_in.sku is not None else form.family).errors = [unknown.message]
        return _render(422, promotion=form)
    days = {"starts_on": promotion_in.starts_on, "ends_on": promotion_in.ends_on}
    db.session.add(Promotion(name=promotion_in.name, multiplier=promotion_in.multiplier, **days, **target))
    db.session.commit()
    return redirect(f"{PATH}?created=promotion#promotions", 303)


def register(app: Flask) -> None:
    """The blueprint and this module's entries in the portal menu (core.people.navigation.add_portal_page)."""
    app.register_blueprint(bp)
    add_portal_page(app, "advertiser", PATH, _l("Catalogue"), order=40)
    add_portal_page(app, "admin", PATH, _l("Catalogue"), order=35)
