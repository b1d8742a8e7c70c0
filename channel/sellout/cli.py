"""``flask --app app channel sellout-import FILE --partner-id N [--commit]``: a sell-out file from the shell."""

from __future__ import annotations

from pathlib import Path

import click


@click.command("sellout-import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--partner-id", type=int, required=True, help="Upload as this partner's key would.")
@click.option("--commit", "book", is_flag=True, help="Book the upload after the preview.")
def sellout_import_command(file: Path, partner_id: int, book: bool) -> None:
    """Preview a sell-out CSV or XLSX for a partner (and book it with --commit); exit 1 if any row is rejected."""
    from channel.sellout.booking import BookingRefused, UploadStale, commit_upload, lock_upload
    from channel.sellout.preview import ImportFileError, UploadRefused, preview_upload
    from core.db import db
    from tracker.program.models import Partner

    partner = db.session.get(Partner, partner_id)
    if partner is None:
        raise click.ClickException(f"partner {partner_id} does not exist")
    try:
        upload = preview_upload(file.read_bytes(), file.name, partner, actor="cli")
        db.session.commit()
        if book:
            locked = lock_upload(upload.id)
            assert locked is not None
            upload = commit_upload(locked, actor="cli")
            db.session.commit()
    except (ImportFileError, UploadRefused, BookingRefused, UploadStale) as error:
        db.session.rollback()
        raise click.ClickException(str(error)) from None
    click.echo(
        f"upload {upload.id} {upload.state}: rows read {upload.rows_read}, accepted {upload.rows_accepted}, "
        f"duplicates {upload.duplicates}, rejected {upload.rejected}, serial conflicts {upload.conflicts}"
    )
    if upload.rejected or upload.duplicates:
        raise click.exceptions.Exit(1)


COMMANDS = (sellout_import_command,)
