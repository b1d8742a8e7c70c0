"""The admins' serial conflict queue: one serial reported by two partners, and the pick of who sold it.

The pick is checked by the API's ResolveIn and made by the same ``lock_conflict`` and ``resolve_conflict``
the API calls, so the page refuses what the API refuses, in the same words.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint, Flask, abort, redirect, render_template, request
from flask_babel import lazy_gettext as _l
from pydantic import ValidationError
from sqlalchemy import select
from werkzeug.wrappers import Response

from channel.catalog.models import Product
from channel.sellout.conflicts import ConflictRefused, lock_conflict, resolve_conflict
from channel.sellout.models import SelloutLine, SerialConflict
from channel.sellout.page_forms import ResolveForm
from channel.sellout.schemas import ResolveIn
from core.api.limits import INT_COLUMN_MAX
from core.db import db
from core.people.access import require_person
from core.people.navigation import add_portal_page
from tracker.program.models import Partner
from tracker.program.portal import all_messages, person_actor

bp = Blueprint("sellout_conflict_pages", __name__)
PATH = "/admin/sellout-conflicts"
RESOLVED_SHOWN = 100
OPEN_SHOWN = 500


@dataclass(frozen=True)
class ConflictLineView:
    line: SelloutLine
    partner: Partner
    sku: str


@dataclass(frozen=True)
class ConflictView:
    conflict: SerialConflict
    holder: ConflictLineView
    claimant: ConflictLineView


def _conflicts(state: str, newest_first: bool, limit: int) -> list[ConflictView]:
    """The conflicts in ``state`` with both lines, their partners and SKUs (one query for all the lines)."""
    order = SerialConflict.id.desc() if newest_first else SerialConflict.id
    statement = select(SerialConflict).where(SerialConflict.state == state).order_by(order).limit(limit)
    conflicts = list(db.session.scalars(statement))
    line_ids = {i for c in conflicts for i in (c.holder_line_id, c.claimant_line_id)}
    lines = db.session.execute(
        select(SelloutLine, Partner, Product.sku)
        .join(Partner, Partner.id == SelloutLine.partner_id)
        .join(Product, Product.id == SelloutLine.product_id)
        .where(SelloutLine.id.in_(line_ids))
    )
    views = {line.id: ConflictLineView(line, partner, sku) for line, partner, sku in lines}
    return [ConflictView(c, views[c.holder_line_id], views[c.claimant_line_id]) for c in conflicts]


def _render(status: int = 200, refused: tuple[int, str] | None = None) -> tuple[str, int]:
    body = render_template(
        "admin/sellout_conflicts.html",
        open_conflicts=_conflicts("open", newest_first=False, limit=OPEN_SHOWN),
        resolved=_conflicts("resolved", newest_first=True, limit=RESOLVED_SHOWN),
        refused=refused,
        just_resolved=request.args.get("resolved", type=int),
    )
    return body, status


@bp.get(PATH)
@require_person("admin")
def conflicts() -> tuple[str, int]:
    return _render()


@bp.get(f"{PATH}/<int:conflict_id>/resolve")
@require_person("admin")
def back_to_the_queue(conflict_id: int) -> Response:
    # A refused pick is shown at the address it was posted to; the language switch comes back there by GET.
    return redirect(PATH, 303)


@bp.post(f"{PATH}/<int:conflict_id>/resolve")
@require_person("admin")
def resolve(conflict_id: int) -> Response | tuple[str, int]:
    form = ResolveForm()
    if not form.validate_on_submit():
        return _render(400)
    try:
        picked = ResolveIn.model_validate({"winner_line_id": (form.winner_line_id.data or "").strip()})
    except ValidationError as error:
        return _render(422, (conflict_id, all_messages(error)))
    conflict = lock_conflict(conflict_id) if conflict_id <= INT_COLUMN_MAX else None
    if conflict is None:
        abort(404)
    try:
        resolve_conflict(conflict, picked.winner_line_id, person_actor())
    except ConflictRefused as error:
        status = 409 if conflict.state != "open" else 422  # resolved already, or a winner that is neither line
        db.session.rollback()
        return _render(status, (conflict_id, str(error)))
    db.session.commit()
    return redirect(f"{PATH}?resolved={conflict_id}", 303)


def register(app: Flask) -> None:
    """The blueprint and its entry in the admins' menu (core.people.navigation.add_portal_page)."""
    app.register_blueprint(bp)
    add_portal_page(app, "admin", PATH, _l("Serial conflicts"), order=45)
