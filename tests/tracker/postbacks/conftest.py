"""Fixtures of the postback tests: one fixed clock, a local partner tracker, an app that may reach it."""

from __future__ import annotations

import pytest

from tests.conftest import _build, _database_url, _teardown, make_settings
from tests.tracker.postbacks.helpers import T0, Receiver


@pytest.fixture(autouse=True)
def frozen(time_machine):
    """Deliveries fall due by comparing stored times with now: every test reads one fixed clock."""
    time_machine.move_to(T0, tick=False)


@pytest.fixture
def receiver():
    receiver = Receiver()
    thread = receiver.start()
    yield receiver
    receiver.stop(thread)


def _open_app(request, tmp_path, **overrides):
    settings = make_settings(
        _database_url(request, tmp_path), tmp_path, allow_private_postback_targets=True, **overrides
    )
    app = _build(settings)
    with app.app_context():
        yield app
    _teardown(app)


@pytest.fixture(params=["sqlite", "postgresql"])
def open_app(request, tmp_path):
    """Like conftest's ``app``, but the operator allows private targets so the local receiver works."""
    yield from _open_app(request, tmp_path)


@pytest.fixture(params=["sqlite", "postgresql"])
def short_deadline_app(request, tmp_path):
    """``open_app`` whose postback attempts end after 2 s, so a test can watch one be cut off."""
    yield from _open_app(request, tmp_path, postback_deadline_seconds=2)
