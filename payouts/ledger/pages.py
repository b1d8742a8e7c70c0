"""The partner's commissions by status, with totals."""

from __future__ import annotations

from datetime import datetime

from flask import Blueprint, Flask, abort, render_template, request
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from core.api.limits import INT_COLUMN_MAX
from core.db import db
from core.people.access import current_person, require_person
from core.people.navigation import add_portal_page
from payouts.ledger.queries import (
    COMMISSION_STATUSES,
    CommissionRow,
    balances,
    commission_rows,
    commission_totals,
)
from tracker.program.models import Offer

bp = Blueprint("commission_pages", __name__)
PAGE_SIZE = 50
STATUS_NAMES = {
    "pending": _l("pending"),
    "approved": _l("approved"),
    "paid": _l("paid"),
    "reversed": _l("reversed"),
    "clawed_back": _l("clawed back"),
}
# The Status column says what a commission waits for, not only its ledger status: a pending one waits for its
# hold to pass, or, when its conversion is held for review, for the advertiser (README, "Which conversions are
# trusted with money"). A pending conversion from a source its offer does not trust waits for the advertiser
# as well, but a CommissionRow does not carry the conversion's source, so such a row reads "In hold".
IN_HOLD = _l("In hold")
WAITS_FOR_ADVERTISER = _l("Waits for the advertiser")
SETTLED_LABELS = {
    "approved": _l("Approved"),
    "paid": _l("Paid"),
    "reversed": _l("Reversed"),
    "clawed_back": _l("Clawed back"),
}
EVENT_NAMES = {"lead": _l("Lead"), "sale": _l("Sale")}  # an offer's custom events keep their own names


def waits_for_advertiser(row: CommissionRow) -> bool:
    return row.status == "pending" and row.conversion_status == "review"


def status_label(row: CommissionRow) -> str:
    if row.status == "pending":
        return str(WAITS_FOR_ADVERTISER if waits_for_advertiser(row) else IN_HOLD)
    return str(SETTLED_LABELS.get(row.status, row.status))


def approves_on(row: CommissionRow) -> datetime | None:
    """The day the hold ends, for a commission that the hold alone approves (or has approved)."""
    if row.status == "approved" or (row.status == "pending" and not waits_for_advertiser(row)):
        return row.approve_after
    return None


def _chosen_status() -> str | None:
    # An unknown status lists everything rather than failing: it can only come from a hand-edited URL.
    status = request.args.get("status", "")
    return status if status in COMMISSION_STATUSES else None


def _offer_names(offer_ids: set[int]) -> dict[int, str]:
    if not offer_ids:
        return {}
    return dict(db.session.execute(select(Offer.id, Offer.name).where(Offer.id.in_(offer_ids))).tuples().all())


def _own_partner_id() -> int:
    person = current_person()
    if person is None or person.partner_id is None:  # require_person("partner") lets only a partner in
        abort(403)
    return person.partner_id


@bp.get("/portal/commissions")
@require_person("partner")
def commissions() -> str:
    partner_id = _own_partner_id()
    status = _chosen_status()
    # Bounded as the API bounds its offset: a page number from a hand-edited URL must not overflow the query.
    page = min(max(request.args.get("page", 1, type=int) or 1, 1), INT_COLUMN_MAX // PAGE_SIZE)
    # One row more than shown tells whether a next page exists without counting them all.
    rows = commission_rows(partner_id, status=status, limit=PAGE_SIZE + 1, offset=(page - 1) * PAGE_SIZE)
    return render_template(
        "partner/commissions.html",
        rows=rows[:PAGE_SIZE],
        offers=_offer_names({row.offer_id for row in rows}),
        has_next=len(rows) > PAGE_SIZE,
        page=page,
        status=status,
        status_names=STATUS_NAMES,
        status_label=status_label,
        approves_on=approves_on,
        event_names=EVENT_NAMES,
        totals=commission_totals(partner_id, status=status),
        balances=balances(partner_id),
    )


def register(app: Flask) -> None:
    """The blueprint and this module's entries in the portal menu (core.people.navigation.add_portal_page)."""
    app.register_blueprint(bp)
    add_portal_page(app, "partner", "/portal/commissions", _l("Commissions"), order=40)
