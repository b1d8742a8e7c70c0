"""Committing an upload (its staged lines booked, points accrued, returns reversed) and undoing it.

Both lock the upload's row first (``FOR UPDATE``), so a commit and an undo of one upload, or two commits,
take turns and the second sees what the first did: booked once, undone once. Then the points ledger
locks the partners and the fund (``channel.points.ledger``), always after the upload: one order, no
deadlock. The caller commits.

A line whose points the fund refuses (exhausted, or no fund) is booked all the same, with the refusal
kept in its ``note`` and shown with the upload: never dropped silently. A line another upload booked
since the preview (the same key, serial or returned sale) fails the commit on the live-line indexes:
``UploadStale``, nothing written, and the upload stays a preview to discard and upload again.
"""

from __future__ import annotations

from datetime import UTC, datetime, time

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from channel.points.bulk import Accrual, accrue_many, reverse_many
from channel.points.ledger import Refusal, reverse_source
from channel.sellout.models import SelloutLine, SelloutUpload, SerialConflict
from core.db import db, utcnow

SOURCE_KIND = "sellout_line"


class BookingRefused(ValueError):
    """The upload is not in a state for this (committed already, undone, discarded); the message says which."""


class UploadStale(ValueError):
    """Lines of this preview were booked by another upload since; nothing was booked."""


def lock_upload(upload_id: int) -> SelloutUpload | None:
    statement = select(SelloutUpload).where(SelloutUpload.id == upload_id).with_for_update()
    return db.session.scalars(statement.execution_options(populate_existing=True)).one_or_none()


def sale_moment(day) -> datetime:
    """When a line's points count from (return window, expiry): the start of its invoice day, UTC."""
    return datetime.combine(day, time(), UTC)


def commit_upload(upload: SelloutUpload, actor: str) -> SelloutUpload:
    """Book a previewed upload (locked by ``lock_upload``): lines live, conflicts queued, points accrued."""
    if upload.state != "previewed":
        raise BookingRefused(f"upload {upload.id} is {upload.state}; only a previewed upload can be committed")
    staged = (SelloutLine.upload_id == upload.id) & (SelloutLine.state == "staged")
    try:
        with db.session.begin_nested():
            db.session.execute(update(SelloutLine).where(staged).values(state="booked", live=True))
    except IntegrityError:
        # The live-line indexes are the arbiter when another upload booked one of these lines, serials or
        # returned sales after this preview was made (or at this very moment).
        raise UploadStale(
            f"another upload booked some of upload {upload.id}'s lines, serials or returns since its preview; "
            "discard it (DELETE) and upload the file again for a fresh preview"
        ) from None
    _queue_conflicts(upload)
    _accrue(upload, actor)
    _reverse_returns(upload, actor)
    upload.state, upload.committed_by, upload.committed_at = "committed", actor, utcnow()
    db.session.flush()
    return upload


def _queue_conflicts(upload: SelloutUpload) -> None:
    claimant, holder = SelloutLine, SelloutLine.__table__.alias("holder")
    pairs = db.session.execute(
        select(claimant.serial, holder.c.id, claimant.id)
        .join(holder, (holder.c.serial_claim == claimant.serial) & holder.c.live)
        .where(claimant.upload_id == upload.id, claimant.live.is_(True), claimant.quantity > 0)
        .where(claimant.serial.is_not(None), claimant.serial_claim.is_(None))
    ).all()
    for serial, holder_id, claimant_id in pairs:
        db.session.add(SerialConflict(serial=serial, holder_line_id=holder_id, claimant_line_id=claimant_id))


def earning(line=SelloutLine):
    """A live sale that earns its points: positive, and holding its serial (a conflicting claim earns nothing)."""
    return (
        line.live.is_(True)
        & (line.quantity > 0)
        & (line.points > 0)
        & (line.serial.is_(None) | line.serial_claim.is_not(None))
    )


def _accrue(upload: SelloutUpload, actor: str) -> None:
    rows = db.session.execute(
        select(SelloutLine.id, SelloutLine.partner_id, SelloutLine.points, SelloutLine.invoice_date)
        .where(SelloutLine.upload_id == upload.id, earning())
        .order_by(SelloutLine.row_number)
    )
    accruals = [Accrual(partner_id, points, line_id, sale_moment(day)) for line_id, partner_id, points, day in rows]
    answers = accrue_many(SOURCE_KIND, accruals, actor)
    refused = [{"id": i, "note": answer.reason} for i, answer in answers.items() if isinstance(answer, Refusal)]
    if refused:
        db.session.execute(update(SelloutLine), refused)  # one UPDATE by primary key, run for each refusal


def _reverse_returns(upload: SelloutUpload, actor: str) -> None:
    returns = db.session.execute(
        select(SelloutLine.returns_line_id, SelloutLine.row_number).where(
            SelloutLine.upload_id == upload.id, SelloutLine.returns_line_id.is_not(None)
        )
    )
    for sale_id, row_number in returns:
        reverse_source(SOURCE_KIND, sale_id, actor, f"returned: upload {upload.id} row {row_number}")


def undo_upload(upload: SelloutUpload, actor: str) -> SelloutUpload:
    """Undo a committed upload (every line's points reversed, its lines no longer count) or discard a preview.

    The lines stay, as the record; leaving the live-line indexes lets the corrected file be uploaded.
    """
    if upload.state == "previewed":
        upload.state, upload.undone_by, upload.undone_at = "discarded", actor, utcnow()
        return upload
    if upload.state != "committed":
        raise BookingRefused(f"upload {upload.id} is {upload.state} already")
    accrued = db.session.scalars(select(SelloutLine.id).where(SelloutLine.upload_id == upload.id, earning()))
    reverse_many(SOURCE_KIND, list(accrued), actor, f"upload {upload.id} undone")
    db.session.execute(update(SelloutLine).where(SelloutLine.upload_id == upload.id).values(live=False))
    upload.state, upload.undone_by, upload.undone_at = "undone", actor, utcnow()
    db.session.flush()
    return upload
