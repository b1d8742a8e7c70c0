"""API for payout batches: build one, read it with its lines and totals, approve, void, rebuild, mark paid,
export."""

from __future__ import annotations

from flask import Blueprint
from flask import Response as FlaskResponse
from spectree import Response
from sqlalchemy import select

from core.api.auth import actor_name, principal, require_roles
from core.api.errors import ApiError
from core.api.openapi import ERRORS, api_spec
from core.db import db
from core.money import InvalidAmount, major_text, to_minor
from payouts.batches.lifecycle import (
    BatchBusy,
    BatchError,
    approve_batch,
    create_batch,
    mark_paid,
    totals,
)
from payouts.batches.models import MONEY_FIELDS, PayoutBatch, PayoutLine
from payouts.batches.rebuild import rebuild_batch
from payouts.batches.schemas import BatchIn, BatchOut, ChangeOut, LineOut, TotalsOut, VoidIn
from payouts.batches.voiding import void_batch
from payouts.exports.archive import ExportRefused, payment_file
from payouts.exports.journal import to_journal_csv
from payouts.exports.sepa import SepaRefused
from payouts.exports.statements import StatementRefused, build_statement, render_statement
from tracker.program.scopes import may_read_private_records

bp = Blueprint("payouts_api_batches", __name__, url_prefix="/api/v1")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _batch(batch_id: int) -> PayoutBatch:
    batch = db.session.get(PayoutBatch, batch_id)
    if batch is None:
        raise ApiError(404, f"payout batch {batch_id} not found")
    return batch


def _figures(batch: PayoutBatch, source) -> dict[str, str]:
    return {
        name.removesuffix("_minor"): major_text(source[name], batch.currency)
        for name in ("amount_minor", *MONEY_FIELDS)
    }


def _line_out(batch: PayoutBatch, line: PayoutLine) -> LineOut:
    values = {name: getattr(line, name) for name in ("amount_minor", *MONEY_FIELDS)}
    return LineOut(
        partner_id=line.partner_id,
        regime=line.regime,
        status=line.status,
        held_reason=line.held_reason,
        **_figures(batch, values),
    )


def _batch_out(batch: PayoutBatch) -> BatchOut:
    return BatchOut(
        id=batch.id,
        period_end=batch.period_end,
        currency=batch.currency,
        payout_date=batch.payout_date,
        state=batch.state,
        minimum_payout=major_text(batch.minimum_payout_minor, batch.currency),
        created_at=batch.created_at,
        created_by=batch.created_by,
        approved_at=batch.approved_at,
        paid_at=batch.paid_at,
        voided_at=batch.voided_at,
        voided_by=batch.voided_by,
        void_reason=batch.void_reason,
        rebuilt_from=batch.rebuilt_from_id,
        rebuilt_as=db.session.scalar(select(PayoutBatch.id).where(PayoutBatch.rebuilt_from_id == batch.id)),
        changes=[ChangeOut(**change) for change in batch.rebuild_changes or []],
        lines=[_line_out(batch, line) for line in batch.lines],
        totals=TotalsOut(**_figures(batch, totals(batch))),
    )


@bp.post("/payout-batches")
@require_roles("admin", "finance")
@api_spec.validate(json=BatchIn, resp=Response(HTTP_201=BatchOut, **ERRORS), tags=["payouts"])
def post_batch(json: BatchIn):
    """Build a draft batch of every approved, unpaid amount up to period_end; held partners say why."""
    try:
        minimum = to_minor(json.minimum_payout, json.currency)
        batch = create_batch(
            json.period_end, json.currency, json.payout_date or json.period_end, minimum, actor_name(principal())
        )
    except BatchBusy as error:
        raise ApiError(409, str(error)) from None
    except (InvalidAmount, BatchError) as error:
        raise ApiError(422, str(error)) from None
    return _batch_out(batch), 201


@bp.get("/payout-batches/<int:batch_id>")
@require_roles("admin", "finance")
@api_spec.validate(resp=Response(HTTP_200=BatchOut, **ERRORS), tags=["payouts"])
def get_batch(batch_id: int):
    return _batch_out(_batch(batch_id))


@bp.post("/payout-batches/<int:batch_id>/approve")
@require_roles("admin", "finance")
@api_spec.validate(resp=Response(HTTP_200=BatchOut, **ERRORS), tags=["payouts"])
def post_approve(batch_id: int):
    """Freeze the batch's lines; exports and payment use these figures."""
    try:
        return _batch_out(approve_batch(_batch(batch_id)))
    except BatchError as error:
        raise ApiError(409, str(error)) from None


@bp.post("/payout-batches/<int:batch_id>/void")
@require_roles("admin", "finance")
@api_spec.validate(json=VoidIn, resp=Response(HTTP_200=BatchOut, **ERRORS), tags=["payouts"])
def post_void(batch_id: int, json: VoidIn):
    """Void a draft: its amounts return to the pool for the next batch; its lines stay as the record."""
    try:
        return _batch_out(void_batch(_batch(batch_id), json.reason, actor_name(principal())))
    except BatchError as error:
        raise ApiError(409, str(error)) from None


@bp.post("/payout-batches/<int:batch_id>/rebuild")
@require_roles("admin", "finance")
@api_spec.validate(resp=Response(HTTP_201=BatchOut, **ERRORS), tags=["payouts"])
def post_rebuild(batch_id: int):
    """Void a draft and build its replacement from the open ledger; ``changes`` says per partner what differs."""
    try:
        return _batch_out(rebuild_batch(_batch(batch_id), actor_name(principal()))), 201
    except BatchError as error:
        raise ApiError(409, str(error)) from None


@bp.post("/payout-batches/<int:batch_id>/mark-paid")
@require_roles("admin", "finance")
@api_spec.validate(resp=Response(HTTP_200=BatchOut, **ERRORS), tags=["payouts"])
def post_mark_paid(batch_id: int):
    """Record that the bank paid the batch: a 'paid' ledger row for every payable line in it."""
    try:
        batch = _batch(batch_id)
        mark_paid(batch, actor_name(principal()))
    except BatchError as error:
        raise ApiError(409, str(error)) from None
    return _batch_out(batch)


def _export(batch_id: int, file_format: str, mimetype: str, extension: str) -> FlaskResponse:
    batch = _batch(batch_id)
    try:
        exported = payment_file(batch, file_format, actor_name(principal()))
    except (ExportRefused, SepaRefused) as error:
        raise ApiError(409, str(error)) from None
    headers = {
        "Content-Disposition": f'attachment; filename="payout-batch-{batch.id}.{extension}"',
        "X-Payout-Export": exported.note,
    }
    if exported.left_out:
        headers["X-Sepa-Excluded"] = exported.left_out.encode("ascii", "replace").decode()
    return FlaskResponse(exported.body, mimetype=mimetype, headers=headers)


@bp.get("/payout-batches/<int:batch_id>/export.csv")
@require_roles("admin", "finance")
@api_spec.validate(resp=Response(HTTP_200=None, **ERRORS), tags=["payouts"])
def get_export_csv(batch_id: int):
    """The batch as UTF-8 CSV, a row per partner (columns in payouts/exports/spreadsheets.py). The first
    export of an approved batch is stored and every later one repeats it (X-Payout-Export says which);
    a draft's is a preview."""
    return _export(batch_id, "csv", "text/csv; charset=utf-8", "csv")


@bp.get("/payout-batches/<int:batch_id>/export.xlsx")
@require_roles("admin", "finance")
@api_spec.validate(resp=Response(HTTP_200=None, **ERRORS), tags=["payouts"])
def get_export_xlsx(batch_id: int):
    """The batch as an XLSX sheet with a totals row."""
    return _export(batch_id, "xlsx", XLSX, "xlsx")


@bp.get("/payout-batches/<int:batch_id>/export.sepa.xml")
@require_roles("admin", "finance")
@api_spec.validate(resp=Response(HTTP_200=None, **ERRORS), tags=["payouts"])
def get_export_sepa(batch_id: int):
    """The approved EUR batch as a SEPA credit transfer (pain.001.001.03); lines left out are named, with
    reasons, in the X-Sepa-Excluded header."""
    return _export(batch_id, "sepa", "application/xml", "sepa.xml")


@bp.get("/payout-batches/<int:batch_id>/export.journal.csv")
@require_roles("admin", "finance")
@api_spec.validate(resp=Response(HTTP_200=None, **ERRORS), tags=["payouts"])
def get_export_journal(batch_id: int):
    """Balanced double-entry journal rows per payable line, as CSV (accounts in payouts/exports/journal.py)."""
    batch = _batch(batch_id)
    return FlaskResponse(
        to_journal_csv(batch),
        mimetype="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="payout-batch-{batch.id}-journal.csv"'},
    )


def _document(batch_id: int, partner_id: int, self_billed: bool) -> FlaskResponse:
    # Another partner's documents are answered as missing, revealing nothing.
    if not may_read_private_records(principal(), partner_id):
        raise ApiError(404, f"partner {partner_id} has no line in payout batch {batch_id}")
    try:
        statement = build_statement(_batch(batch_id), partner_id, self_billed=self_billed)
    except LookupError as error:
        raise ApiError(404, str(error)) from None
    except StatementRefused as error:
        raise ApiError(409, str(error)) from None
    return FlaskResponse(render_statement(statement), mimetype="text/html")


@bp.get("/payout-batches/<int:batch_id>/statements/<int:partner_id>.html")
@require_roles("admin", "finance", "partner")
@api_spec.validate(resp=Response(HTTP_200=None, **ERRORS), tags=["payouts"])
def get_statement(batch_id: int, partner_id: int):
    """A partner's printable statement for the batch: each commission, clawback and adjustment, then totals."""
    return _document(batch_id, partner_id, self_billed=False)


@bp.get("/payout-batches/<int:batch_id>/invoices/<int:partner_id>.html")
@require_roles("admin", "finance", "partner")
@api_spec.validate(resp=Response(HTTP_200=None, **ERRORS), tags=["payouts"])
def get_invoice(batch_id: int, partner_id: int):
    """The statement as a self-billed invoice; refused unless the partner's profile has a self-billing agreement."""
    return _document(batch_id, partner_id, self_billed=True)
