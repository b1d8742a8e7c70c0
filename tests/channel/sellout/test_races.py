"""Races on PostgreSQL, each side in its own thread and session: undo against commit, two commits."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from channel.points.models import PointsEntry
from channel.sellout.booking import BookingRefused, commit_upload, lock_upload, undo_upload
from channel.sellout.models import SelloutUpload
from core.db import db
from tests.channel.sellout.conftest import points_of, preview

pytestmark = pytest.mark.parametrize("app", ["postgresql"], indirect=True)  # SQLite has one writer: no race


def race(app, *calls):
    barrier = threading.Barrier(len(calls))
    results: list[object] = [None] * len(calls)

    def run(index, call):
        with app.app_context():
            barrier.wait()
            try:
                results[index] = call().state
                db.session.commit()
            except BookingRefused as refusal:
                db.session.rollback()
                results[index] = refusal
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    db.session.rollback()
    return results


def step(upload_id, action):
    return lambda: action(lock_upload(upload_id), "race")


def test_two_commits_of_one_upload_book_it_once(app, client, program):
    upload_id = preview(client, program.keys["reseller"], program.row(), program.row(line_number=2))["id"]
    results = race(app, step(upload_id, commit_upload), step(upload_id, commit_upload))
    refused = f"upload {upload_id} is committed; only a previewed upload can be committed"
    assert sorted(map(str, results)) == sorted([refused, "committed"])
    assert points_of(program.reseller) == 40
    assert db.session.scalar(select(func.count()).select_from(PointsEntry)) == 2


def test_an_undo_racing_a_commit_leaves_no_points_either_way(app, client, program):
    for attempt in range(3):
        upload_id = preview(client, program.keys["reseller"], program.row(line_number=attempt + 1))["id"]
        results = race(app, step(upload_id, commit_upload), step(upload_id, undo_upload))
        state = db.session.scalar(select(SelloutUpload.state).where(SelloutUpload.id == upload_id))
        # The commit first: booked, then undone. The undo first: the preview discarded, the commit refused.
        assert (state, sorted(map(str, results))) in [
            ("undone", ["committed", "undone"]),
            (
                "discarded",
                sorted(["discarded", f"upload {upload_id} is discarded; only a previewed upload can be committed"]),
            ),
        ]
        assert points_of(program.reseller) == 0
