"""The partner's payout statements, one per batch that pays it."""

from __future__ import annotations

from flask import Blueprint, Flask, Response, abort, render_template
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from core.db import db
from core.people.access import current_person, require_person
from core.people.navigation import add_portal_page
from payouts.batches.models import PayoutBatch, PayoutLine
from payouts.exports.statements import build_statement, render_statement

bp = Blueprint("statement_pages", __name__)
# A draft may still change or be voided, and a voided batch pays nothing: a partner sees a batch once
# finance approved it.
SHOWN_STATES = ("approved", "exported", "paid")
STATE_NAMES = {"approved": _l("approved"), "exported": _l("sent to the bank"), "paid": _l("paid")}


def _own_partner_id() -> int:
    person = current_person()
    if person is None or person.partner_id is None:  # require_person("partner") lets only a partner in
        abort(403)
    return person.partner_id


def _paying_batches(partner_id: int) -> list[tuple[PayoutBatch, PayoutLine]]:
    rows = db.session.execute(
        select(PayoutBatch, PayoutLine)
        .join(PayoutLine, PayoutLine.batch_id == PayoutBatch.id)
        .where(PayoutLine.partner_id == partner_id, PayoutBatch.state.in_(SHOWN_STATES))
        .order_by(PayoutBatch.payout_date.desc(), PayoutBatch.id.desc())
    )
    return [(batch, line) for batch, line in rows.tuples()]


@bp.get("/portal/statements")
@require_person("partner")
def statements() -> str:
    rows = _paying_batches(_own_partner_id())
    return render_template("partner/statements.html", rows=rows, state_names=STATE_NAMES)


@bp.get("/portal/statements/<int:batch_id>")
@require_person("partner")
def statement(batch_id: int) -> Response:
    partner_id = _own_partner_id()
    batch = db.session.get(PayoutBatch, batch_id)
    # Another partner's batch, a draft and a missing one all answer 404 alike, revealing nothing.
    if batch is None or batch.state not in SHOWN_STATES:
        abort(404)
    try:
        document = build_statement(batch, partner_id)
    except LookupError:  # the batch has no line for this partner
        abort(404)
    return Response(render_statement(document), mimetype="text/html")


def register(app: Flask) -> None:
    """The blueprint and this module's entries in the portal menu (core.people.navigation.add_portal_page)."""
    app.register_blueprint(bp)
    add_portal_page(app, "partner", "/portal/statements", _l("Statements"), order=50)
