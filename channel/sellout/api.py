"""Sell-out over the API: upload a file for a preview, commit it, undo a committed upload; the conflict queue.

Who: an admin key uploads for any partner; a partner key for itself; a distributor's key for itself and
its resellers (partners whose parent it is). A partner key sees (and commits, undoes) the uploads made
with its company's keys, a distributor's also its resellers'; any other upload is answered 404.
"""

from __future__ import annotations

from flask import Blueprint, request
from flask import Response as FlaskResponse
from spectree import Response
from sqlalchemy import Select, func, select
from werkzeug.datastructures import FileStorage

from channel.points.models import PointsEntry
from channel.sellout.access import visible_uploads
from channel.sellout.booking import SOURCE_KIND, BookingRefused, UploadStale, commit_upload, lock_upload, undo_upload
from channel.sellout.conflicts import ConflictRefused, lock_conflict, resolve_conflict
from channel.sellout.models import SelloutLine, SelloutRejection, SelloutUpload, SerialConflict
from channel.sellout.preview import MAX_UPLOAD_BYTES, ImportFileError, UploadRefused, preview_upload
from channel.sellout.rows import template_csv
from channel.sellout.schemas import (
    ConflictLine,
    ConflictList,
    ConflictOut,
    ConflictQuery,
    LineNote,
    RejectedRow,
    ResolveIn,
    UploadForm,
    UploadList,
    UploadListQuery,
    UploadOut,
    UploadQuery,
    UploadSummary,
)
from core.api.auth import Principal, actor_name, principal, require_roles
from core.api.errors import ApiError, commit_or_conflict
from core.api.openapi import ERRORS, api_spec
from core.db import db
from tracker.program.models import Partner

bp = Blueprint("sellout_api", __name__, url_prefix="/api/v1")
WRITERS = ("admin", "partner")
READERS = ("admin", "finance", "partner")
UPLOAD_ENDPOINT = "sellout_api.create_upload"


@bp.url_value_preprocessor
def allow_file_sized_bodies(endpoint: str | None, values: dict | None) -> None:
    # Only the upload may exceed the site's body limit (MAX_BODY_BYTES): a 100,000-row file is ~20 MB.
    if endpoint == UPLOAD_ENDPOINT:
        request.max_content_length = MAX_UPLOAD_BYTES + 64 * 1024


def _visible(who: Principal) -> Select:
    if who.role != "partner" or who.partner_id is None:
        return select(SelloutUpload)
    return visible_uploads(who.partner_id)


def _upload(upload_id: int, lock: bool = False) -> SelloutUpload:
    visible = db.session.scalar(_visible(principal()).where(SelloutUpload.id == upload_id))
    upload = lock_upload(upload_id) if visible is not None and lock else visible
    if upload is None:
        raise ApiError(404, f"upload {upload_id} not found")
    return upload


def _summary(upload: SelloutUpload) -> dict:
    return UploadSummary(
        id=upload.id,
        state=upload.state,
        file_name=upload.file_name,
        sha256=upload.sha256,
        uploader_partner_id=upload.uploader_partner_id,
        rows_read=upload.rows_read,
        rows_accepted=upload.rows_accepted,
        duplicates=upload.duplicates,
        rejected_count=upload.rejected,
        conflicts=upload.conflicts,
        created_by=upload.created_by,
        created_at=upload.created_at,
        committed_at=upload.committed_at,
        undone_at=upload.undone_at,
    ).model_dump()


def upload_out(upload: SelloutUpload, limit: int = 1000, offset: int = 0) -> UploadOut:
    rejected = db.session.scalars(
        select(SelloutRejection)
        .where(SelloutRejection.upload_id == upload.id)
        .order_by(SelloutRejection.row_number, SelloutRejection.id)
        .limit(limit)
        .offset(offset)
    )
    noted = db.session.execute(
        select(SelloutLine.row_number, SelloutLine.note)
        .where(SelloutLine.upload_id == upload.id, SelloutLine.note.is_not(None))
        .order_by(SelloutLine.row_number)
        .limit(limit)
    )
    lines = select(SelloutLine.id).where(SelloutLine.upload_id == upload.id)
    accrued = db.session.scalar(
        select(func.coalesce(func.sum(PointsEntry.points), 0)).where(
            PointsEntry.source_kind == SOURCE_KIND, PointsEntry.kind == "accrued", PointsEntry.source_id.in_(lines)
        )
    )
    return UploadOut(
        **_summary(upload),
        points_accrued=int(accrued or 0),
        rejected=[RejectedRow(row=r.row_number, kind=r.kind, reason=r.reason) for r in rejected],
        booked_without_points=[LineNote(row=row, reason=note) for row, note in noted],
    )


@bp.get("/sellout/template.csv")
@require_roles(*READERS)
@api_spec.validate(resp=Response(HTTP_200=None, **ERRORS), tags=["sellout"])
def get_template():
    """The sell-out file's header and one example row, as CSV (the README describes each column)."""
    return FlaskResponse(
        template_csv(),
        mimetype="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="sellout-template.csv"'},
    )


@bp.post("/sellout/uploads")
@require_roles(*WRITERS)
@api_spec.validate(form=UploadForm, resp=Response(HTTP_201=UploadOut, **ERRORS), tags=["sellout"])
def create_upload(form: UploadForm):
    """Upload a CSV or XLSX ``file`` (multipart/form-data): every row judged, nothing booked yet.

    Answers the preview: rows read, accepted, duplicates, conflicts and each rejected row with its reason.
    """
    upload = form.file if form is not None else None
    if not isinstance(upload, FileStorage):
        raise ApiError(400, "send the sell-out file as the multipart/form-data field 'file'")
    who = principal()
    uploader = db.session.get(Partner, who.partner_id) if who.role == "partner" else None
    try:
        preview = preview_upload(upload.read(), upload.filename or "upload", uploader, actor_name(who))
    except ImportFileError as error:
        raise ApiError(422, str(error)) from None
    except UploadRefused as error:
        raise ApiError(409, str(error)) from None
    # The unique index on a previewed or booked file's SHA-256 decides when the same file comes twice at once.
    commit_or_conflict("the same file is being uploaded by another request at this moment")
    return upload_out(preview), 201


@bp.get("/sellout/uploads")
@require_roles(*READERS)
@api_spec.validate(query=UploadListQuery, resp=Response(HTTP_200=UploadList, **ERRORS), tags=["sellout"])
def list_uploads(query: UploadListQuery):
    """The uploads the key may see, newest first."""
    statement = _visible(principal())
    if query.state is not None:
        statement = statement.where(SelloutUpload.state == query.state)
    statement = statement.order_by(SelloutUpload.id.desc()).limit(query.limit).offset(query.offset)
    return UploadList.model_validate({"items": [_summary(upload) for upload in db.session.scalars(statement)]})


@bp.get("/sellout/uploads/<int:upload_id>")
@require_roles(*READERS)
@api_spec.validate(query=UploadQuery, resp=Response(HTTP_200=UploadOut, **ERRORS), tags=["sellout"])
def get_upload(upload_id: int, query: UploadQuery):
    """The preview, or the result of a committed upload: its rejected rows and the lines booked without points."""
    return upload_out(_upload(upload_id), query.rejected_limit, query.rejected_offset)


@bp.post("/sellout/uploads/<int:upload_id>/commit")
@require_roles(*WRITERS)
@api_spec.validate(resp=Response(HTTP_200=UploadOut, **ERRORS), tags=["sellout"])
def commit(upload_id: int):
    """Book a previewed upload: its lines count, their points accrue, its returns take back their sales' points."""
    upload = _upload(upload_id, lock=True)
    try:
        commit_upload(upload, actor_name(principal()))
    except (BookingRefused, UploadStale) as error:
        db.session.rollback()
        raise ApiError(409, str(error)) from None
    db.session.commit()
    return upload_out(upload)


@bp.delete("/sellout/uploads/<int:upload_id>")
@require_roles(*WRITERS)
@api_spec.validate(resp=Response(HTTP_200=UploadOut, **ERRORS), tags=["sellout"])
def delete_upload(upload_id: int):
    """Undo a committed upload (every line's points reversed; the corrected file may then be uploaded), or
    discard a preview."""
    upload = _upload(upload_id, lock=True)
    try:
        undo_upload(upload, actor_name(principal()))
    except BookingRefused as error:
        db.session.rollback()
        raise ApiError(409, str(error)) from None
    db.session.commit()
    return upload_out(upload)


def _conflict_line(line: SelloutLine) -> ConflictLine:
    return ConflictLine(
        line_id=line.id,
        partner_id=line.partner_id,
        upload_id=line.upload_id,
        row=line.row_number,
        invoice_number=line.invoice_number,
        invoice_date=line.invoice_date,
        points=line.points,
    )


def conflict_out(conflict: SerialConflict) -> ConflictOut:
    holder = db.session.get(SelloutLine, conflict.holder_line_id)
    claimant = db.session.get(SelloutLine, conflict.claimant_line_id)
    assert holder is not None and claimant is not None  # foreign keys
    return ConflictOut(
        id=conflict.id,
        serial=conflict.serial,
        state=conflict.state,
        holder=_conflict_line(holder),
        claimant=_conflict_line(claimant),
        winner_line_id=conflict.winner_line_id,
        resolved_by=conflict.resolved_by,
        resolved_at=conflict.resolved_at,
        created_at=conflict.created_at,
    )


@bp.get("/sellout/conflicts")
@require_roles("admin")
@api_spec.validate(query=ConflictQuery, resp=Response(HTTP_200=ConflictList, **ERRORS), tags=["sellout"])
def list_conflicts(query: ConflictQuery):
    """Serials reported by two partners, oldest first: the line holding the serial and the one claiming it."""
    statement = (
        select(SerialConflict)
        .where(SerialConflict.state == query.state)
        .order_by(SerialConflict.id)
        .limit(query.limit)
        .offset(query.offset)
    )
    return ConflictList(items=[conflict_out(conflict) for conflict in db.session.scalars(statement)])


@bp.post("/sellout/conflicts/<int:conflict_id>/resolve")
@require_roles("admin")
@api_spec.validate(json=ResolveIn, resp=Response(HTTP_200=ConflictOut, **ERRORS), tags=["sellout"])
def resolve(conflict_id: int, json: ResolveIn):
    """Give the serial to one line: the winner keeps or earns its points, the loser's are reversed."""
    conflict = lock_conflict(conflict_id)
    if conflict is None:
        raise ApiError(404, f"conflict {conflict_id} not found")
    try:
        resolve_conflict(conflict, json.winner_line_id, actor_name(principal()))
    except ConflictRefused as error:
        status = 409 if conflict.state != "open" else 422  # resolved already, or a winner that is neither line
        db.session.rollback()
        raise ApiError(status, str(error)) from None
    db.session.commit()
    return conflict_out(conflict)
