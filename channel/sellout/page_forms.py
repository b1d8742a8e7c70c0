"""The sell-out pages' forms: the file to upload, the undo's confirmation, an admin's pick of a conflict's winner."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, StringField

from channel.sellout.preview import MAX_ROWS, MAX_UPLOAD_BYTES


class UploadForm(FlaskForm):
    file = FileField(
        _l("Sell-out file (CSV or XLSX)"),
        validators=[FileRequired(_l("Choose the CSV or XLSX file."))],
        description=_l(
            "At most %(mib)s MiB and %(rows)s rows; row 1 is the header.",
            mib=MAX_UPLOAD_BYTES // 2**20,
            rows=MAX_ROWS,
        ),
    )


class UndoForm(FlaskForm):
    # Checked by the view, and only for a committed upload: discarding a preview takes nothing back.
    confirm = BooleanField(_l("Yes, undo the upload and take back the points of every line"))


class ResolveForm(FlaskForm):
    # Text, so ResolveIn and resolve_conflict say what is wrong with it as the API would.
    winner_line_id = StringField(_l("Winner"))
