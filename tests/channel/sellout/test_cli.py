"""``flask --app app channel sellout-import FILE --partner-id N [--commit]``."""

from __future__ import annotations

from channel.sellout.models import SelloutUpload
from core.db import db
from tests.channel.sellout.conftest import csv_bytes, points_of


def test_the_command_previews_and_with_commit_books(app, program, tmp_path):
    path = tmp_path / "sellout.csv"
    path.write_bytes(csv_bytes(program.row(), program.row(line_number=2, sku="NOPE")))
    runner = app.test_cli_runner()
    result = runner.invoke(args=["channel", "sellout-import", str(path), "--partner-id", str(program.reseller.id)])
    assert result.exit_code == 1 and "previewed: rows read 2, accepted 1, duplicates 0, rejected 1" in result.output
    assert points_of(program.reseller) == 0
    path.write_bytes(csv_bytes(program.row(line_number=3)))
    args = ["channel", "sellout-import", str(path), "--partner-id", str(program.reseller.id), "--commit"]
    result = runner.invoke(args=args)
    assert result.exit_code == 0 and "committed: rows read 1, accepted 1" in result.output
    db.session.expire_all()
    assert points_of(program.reseller) == 20 and db.session.query(SelloutUpload).count() == 2
    again = runner.invoke(args=args)
    assert again.exit_code == 1 and "a file is uploaded once" in again.output
