"""Finance's payout batches: the list, a new build with its progress, and the balances still to pay.

A build runs in the background (payouts.batches.background_builds) and the request waits a moment for it:
a small batch, or one refused at once (a bad payout date, another build in the currency, nothing to pay),
is answered as the API would answer it; a large one goes on to a progress page that refreshes by itself.
The batch's own page and its actions are in payouts.batches.batch_pages.
"""

from __future__ import annotations

from collections import defaultdict

from flask import Blueprint, Flask, abort, redirect, render_template
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from core.db import db
from core.people.access import require_person
from core.people.navigation import add_portal_page
from payouts.batches import batch_pages
from payouts.batches.background_builds import read_build, running_builds, start_build
from payouts.batches.forms import BatchForm
from payouts.batches.labels import STATE_NAMES, actor, actor_names
from payouts.batches.models import PayoutBatch, PayoutLine
from payouts.ledger.queries import Balance, balances
from tracker.program.models import Partner

bp = Blueprint("batch_pages", __name__)
# How long the form's request waits for its build before showing the progress page instead.
WAIT_FOR_BUILD_SECONDS = 3.0
SHOWN_BATCHES = 200
BALANCE_SUMS = ("pending_minor", "approved_minor", "paid_minor", "clawback_minor", "payable_minor")


def _batch_rows() -> list:
    lines = (
        select(
            PayoutLine.batch_id,
            func.count().label("lines"),
            func.sum(PayoutLine.gross_minor).label("gross"),
            func.sum(PayoutLine.net_minor).label("net"),
        )
        .group_by(PayoutLine.batch_id)
        .subquery()
    )
    statement = (
        select(PayoutBatch, lines.c.lines, lines.c.gross, lines.c.net)
        .outerjoin(lines, lines.c.batch_id == PayoutBatch.id)
        .order_by(PayoutBatch.id.desc())
        .limit(SHOWN_BATCHES)
    )
    return list(db.session.execute(statement))


def _render_list(form: BatchForm, status: int = 200, busy: str | None = None, failed: str | None = None):
    rows = _batch_rows()
    page = render_template(
        "finance/batches.html",
        form=form,
        rows=rows,
        actor_names=actor_names(batch.created_by for batch, *_ in rows),
        running=running_builds(),
        busy=busy,
        failed=failed,
        shown=SHOWN_BATCHES,
        state_names=STATE_NAMES,
    )
    return page, status


@bp.get("/portal/batches")
@require_person("finance")
def batches():
    return _render_list(BatchForm())


@bp.post("/portal/batches")
@require_person("finance")
def create():
    form = BatchForm()
    wanted = form.build_request(actor()) if form.validate_on_submit() else None
    if wanted is None:
        return _render_list(form, 422)
    token, thread = start_build(wanted)
    thread.join(WAIT_FOR_BUILD_SECONDS)
    build = read_build(token)
    if build is not None and build.state == "done":
        return redirect(f"/portal/batches/{build.batch_id}?built=1", 303)
    if build is not None and build.state == "failed" and build.error:
        # Refused before anything was written: the form again, with the message the API would answer.
        return _render_list(form, 409 if build.busy else 422, **{"busy" if build.busy else "failed": build.error})
    return redirect(f"/portal/batches/builds/{token}", 303)


@bp.get("/portal/batches/builds/<token>")
@require_person("finance")
def build_progress(token: str):
    build = read_build(token)
    if build is None:
        abort(404)
    if build.state == "done":
        return redirect(f"/portal/batches/{build.batch_id}?built=1", 303)
    status = 409 if build.busy else 200
    return render_template("finance/batch_build.html", build=build), status


@bp.get("/portal/balances")
@require_person("finance")
def balance_list():
    rows = balances()
    names = dict(db.session.execute(select(Partner.id, Partner.name)).tuples().all())
    return render_template("finance/balances.html", rows=rows, names=names, sums=_sums(rows))


def _sums(rows: list[Balance]) -> dict[str, dict[str, int]]:
    """Totals per currency: amounts in different currencies are never added together."""
    sums: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(BALANCE_SUMS, 0))
    for row in rows:
        for name in BALANCE_SUMS:
            sums[row.currency][name] += getattr(row, name)
    return dict(sorted(sums.items()))


def register(app: Flask) -> None:
    """The blueprint and this module's entries in the portal menu (core.people.navigation.add_portal_page)."""
    app.register_blueprint(bp)
    app.register_blueprint(batch_pages.bp)
    add_portal_page(app, "finance", "/portal/batches", _l("Payout batches"), order=10)
    add_portal_page(app, "finance", "/portal/balances", _l("Balances"), order=20)
