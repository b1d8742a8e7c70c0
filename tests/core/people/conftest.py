"""People tests hash with cheap argon2 parameters (each hash would take tens of ms); the catalogues compiled."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from flask import g

from core.people import passwords
from core.settings import PROJECT_ROOT

CHEAP = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


@pytest.fixture(autouse=True)
def cheap_hashes(monkeypatch):
    monkeypatch.setattr(passwords, "HASHER", CHEAP)


@pytest.fixture(autouse=True)
def fresh_request_globals(request):
    """Each request starts with an empty ``g``, as in production.

    Tests hold one app context open, so every test-client request shares its ``g``; Flask-Babel keeps the
    locale and Flask-WTF the CSRF token there, and one browser's would leak into the next request's.
    """
    for name in ("app", "mail_app"):
        if name in request.fixturenames:
            app = request.getfixturevalue(name)
            app.before_request_funcs.setdefault(None, []).insert(0, _forget_request_globals)


def _forget_request_globals() -> None:
    for name in ("_flask_babel", "csrf_token"):
        g.pop(name, None)


@pytest.fixture(scope="session")
def compiled_catalogues():
    """``make`` compiles them at install; a bare pytest run compiles them here when they are missing or stale."""
    for source in (PROJECT_ROOT / "translations").glob("*/LC_MESSAGES/messages.po"):
        compiled = source.with_suffix(".mo")
        if not compiled.exists() or compiled.stat().st_mtime < source.stat().st_mtime:
            pybabel = Path(sys.executable).parent / "pybabel"
            subprocess.run([str(pybabel), "compile", "-d", str(PROJECT_ROOT / "translations")], check=True)
            break
