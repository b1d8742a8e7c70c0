"""Partners' signed W-8/W-9 PDFs: checked, stored under the instance folder, listed and found per partner.

A form is refused unless it starts with the PDF signature and fits in ``MAX_FORM_BYTES``; nothing is
written for a refused one. The file goes to ``<instance>/tax_forms/<partner_id>/<row id>.pdf``, named by
the row so a partner's file name never reaches the file system.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import IO

from flask import current_app
from sqlalchemy import select

from core.db import db, utcnow
from payouts.tax.models import TaxFormFile

MAX_FORM_BYTES = 5 * 1024 * 1024
PDF_SIGNATURE = b"%PDF-"
FOLDER = "tax_forms"


class FormRefused(ValueError):
    """The upload is not a PDF, is empty or too large; the message says which."""


def forms_of(partner_id: int) -> list[TaxFormFile]:
    statement = select(TaxFormFile).where(TaxFormFile.partner_id == partner_id)
    return list(db.session.scalars(statement.order_by(TaxFormFile.uploaded_at.desc(), TaxFormFile.id.desc())))


def own_form(partner_id: int, form_id: int) -> TaxFormFile | None:
    """The partner's form with this id; another partner's is None, as a missing one is."""
    return db.session.scalar(select(TaxFormFile).where(TaxFormFile.id == form_id, TaxFormFile.partner_id == partner_id))


def stored_path(form: TaxFormFile) -> Path:
    return Path(current_app.instance_path) / FOLDER / str(form.partner_id) / f"{form.id}.pdf"


def _read_checked(stream: IO[bytes]) -> bytes:
    # One byte past the limit is enough to know the file is too large, without reading all of it.
    content = stream.read(MAX_FORM_BYTES + 1)
    if not content:
        raise FormRefused("the file is empty")
    if len(content) > MAX_FORM_BYTES:
        raise FormRefused("the file is larger than 5 MB")
    if not content.startswith(PDF_SIGNATURE):
        raise FormRefused("the file is not a PDF (it does not start with %PDF-)")
    return content


def save_form(partner_id: int, kind: str, file_name: str, stream: IO[bytes], person_id: int) -> TaxFormFile:
    """Check and store one upload with its row, both or neither."""
    content = _read_checked(stream)
    form = TaxFormFile(
        partner_id=partner_id,
        kind=kind,
        file_name=(file_name.strip() or "form.pdf")[:255],
        sha256=hashlib.sha256(content).hexdigest(),
        size_bytes=len(content),
        uploaded_at=utcnow(),
        uploaded_by_person_id=person_id,
    )
    db.session.add(form)
    db.session.flush()  # the row's id names the file
    path = stored_path(form)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
        db.session.commit()
    except Exception:
        db.session.rollback()
        path.unlink(missing_ok=True)
        raise
    return form
