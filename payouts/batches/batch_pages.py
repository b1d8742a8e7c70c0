"""One payout batch for finance: its lines and totals, held lines with reasons, the actions its state allows,
and every export.

Each action calls the function the API's endpoint calls (payouts.batches.api) and shows its refusal on the
page. The API's download endpoints take API keys only, so the files are served here too, by the same export
functions; a refused export is the batch page with the reason.
"""

from __future__ import annotations

from flask import Blueprint, Response, abort, redirect, render_template, request
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from core.db import db
from core.people.access import require_person
from payouts.batches.forms import ConfirmForm, VoidForm
from payouts.batches.labels import CHANGE_NAMES, LINE_STATUS_NAMES, STATE_NAMES, actor, actor_names, regime_names
from payouts.batches.lifecycle import BatchError, approve_batch, mark_paid, totals
from payouts.batches.models import PayoutBatch
from payouts.batches.rebuild import rebuild_batch
from payouts.batches.voiding import void_batch
from payouts.exports.archive import ExportRefused, payment_file
from payouts.exports.journal import to_journal_csv
from payouts.exports.sepa import SepaRefused
from payouts.exports.statements import StatementRefused, build_statement, render_statement
from tracker.program.models import Partner

bp = Blueprint("batch_detail_pages", __name__)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# format: (mimetype, file name ending)
PAYMENT_FILES = {
    "csv": ("text/csv; charset=utf-8", "csv"),
    "xlsx": (XLSX, "xlsx"),
    "sepa": ("application/xml", "sepa.xml"),
}
# ?<notice>=1 after an action's redirect: what the page says was done.
DONE_NOTICES = {
    "built": _l("The batch is built. Review its lines, then approve it."),
    "approved": _l("Approved: the lines are frozen. Download the payment file, then mark the batch paid."),
    "voided": _l("Voided: its amounts go to the next batch."),
    "paid": _l("Marked paid: the ledger records every payable line as paid."),
}


def _batch(batch_id: int) -> PayoutBatch:
    batch = db.session.get(PayoutBatch, batch_id)
    if batch is None:
        abort(404)
    return batch


def _render(batch: PayoutBatch, status: int = 200, error: str | None = None, void_form: VoidForm | None = None):
    names = dict(
        db.session.execute(
            select(Partner.id, Partner.name).where(Partner.id.in_({line.partner_id for line in batch.lines}))
        )
        .tuples()
        .all()
    )
    rebuilt_as = db.session.scalar(select(PayoutBatch.id).where(PayoutBatch.rebuilt_from_id == batch.id))
    page = render_template(
        "finance/batch.html",
        batch=batch,
        names=names,
        totals=totals(batch),
        held=[line for line in batch.lines if line.status == "held"],
        rebuilt_as=rebuilt_as,
        error=error,
        done=next((notice for notice in DONE_NOTICES if request.args.get(notice)), None),
        done_notices=DONE_NOTICES,
        state_names=STATE_NAMES,
        line_status_names=LINE_STATUS_NAMES,
        change_names=CHANGE_NAMES,
        regime_names=regime_names(line.regime for line in batch.lines),
        actor_names=actor_names((batch.created_by, batch.voided_by)),
        void_form=void_form or VoidForm(),
        confirm_form=ConfirmForm(),
    )
    return page, status


@bp.get("/portal/batches/<int:batch_id>")
@require_person("finance")
def batch_page(batch_id: int):
    return _render(_batch(batch_id))


def _act(batch_id: int, action, notice: str):
    """Run an action the API offers on the batch; its refusal is the page again with the message (409)."""
    batch = _batch(batch_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        result = action(batch)
    except BatchError as error:
        db.session.rollback()
        return _render(_batch(batch_id), 409, error=str(error))
    target = result.id if isinstance(result, PayoutBatch) else batch.id
    return redirect(f"/portal/batches/{target}?{notice}=1", 303)


@bp.post("/portal/batches/<int:batch_id>/approve")
@require_person("finance")
def approve(batch_id: int):
    return _act(batch_id, approve_batch, "approved")


@bp.post("/portal/batches/<int:batch_id>/rebuild")
@require_person("finance")
def rebuild(batch_id: int):
    return _act(batch_id, lambda batch: rebuild_batch(batch, actor()), "built")


@bp.post("/portal/batches/<int:batch_id>/mark-paid")
@require_person("finance")
def paid(batch_id: int):
    return _act(batch_id, lambda batch: mark_paid(batch, actor()), "paid")


@bp.post("/portal/batches/<int:batch_id>/void")
@require_person("finance")
def void(batch_id: int):
    batch, form = _batch(batch_id), VoidForm()
    if not form.validate_on_submit():
        return _render(batch, 422, void_form=form)
    try:
        void_batch(batch, form.reason.data or "", actor())
    except BatchError as error:
        db.session.rollback()
        form.reason.errors = [str(error)]
        return _render(_batch(batch_id), 409, void_form=form)
    return redirect(f"/portal/batches/{batch.id}?voided=1", 303)


@bp.get("/portal/batches/<int:batch_id>/export.<file_format>")
@require_person("finance")
def payment_export(batch_id: int, file_format: str):
    if file_format not in PAYMENT_FILES:
        abort(404)
    batch = _batch(batch_id)
    try:
        exported = payment_file(batch, file_format, actor())
    except (ExportRefused, SepaRefused) as error:
        db.session.rollback()
        return _render(_batch(batch_id), 409, error=str(error))
    mimetype, ending = PAYMENT_FILES[file_format]
    headers = {"X-Payout-Export": exported.note, **_attachment(f"payout-batch-{batch.id}.{ending}")}
    if exported.left_out:  # as the API says it: the SEPA lines left out, with reasons
        headers["X-Sepa-Excluded"] = exported.left_out.encode("ascii", "replace").decode()
    return Response(exported.body, mimetype=mimetype, headers=headers)


@bp.get("/portal/batches/<int:batch_id>/journal.csv")
@require_person("finance")
def journal_export(batch_id: int):
    batch = _batch(batch_id)
    body = to_journal_csv(batch)
    return Response(
        body, mimetype="text/csv; charset=utf-8", headers=_attachment(f"payout-batch-{batch.id}-journal.csv")
    )


@bp.get("/portal/batches/<int:batch_id>/statements/<int:partner_id>.html")
@require_person("finance")
def statement(batch_id: int, partner_id: int):
    batch = _batch(batch_id)
    try:
        document = build_statement(batch, partner_id)
    except LookupError:
        abort(404)
    except StatementRefused as error:
        return _render(batch, 409, error=str(error))
    return Response(render_statement(document), mimetype="text/html")


def _attachment(name: str) -> dict[str, str]:
    return {"Content-Disposition": f'attachment; filename="{name}"'}
