"""What a browser gets that an API client and a click do not: Flask's session, CSRF checks, the layout's helpers.

Flask's signed cookie session holds only Flask-WTF's CSRF token; who is signed in lives in
``person_sessions`` (core/people/sessions.py). Nothing on the click path or under ``/api/`` writes the
session, so neither answers with a cookie (tests/core/people/test_cookies.py).
"""

from __future__ import annotations

from functools import cache

from flask import Flask, render_template, request
from flask.sessions import SecureCookieSessionInterface
from flask_wtf.csrf import CSRFError, CSRFProtect
from itsdangerous import URLSafeTimedSerializer
from markupsafe import Markup
from werkzeug.wrappers import Response

from core.keys import derive_key
from core.people.sessions import DEAD_COOKIE_KEY, PERSON_KEY, clear_session_cookie, current_person
from core.settings import PROJECT_ROOT, Settings

csrf = CSRFProtect()


class FormSessionInterface(SecureCookieSessionInterface):
    """Flask's signed cookie session, with its serializer built once instead of on every request.

    Flask opens the session on every request, a click included; building the serializer is most of that
    cost (about 15 µs of 19 measured here for a request without cookies, against about 5 µs once cached).
    The app's key never changes after start-up, so one serializer serves every request and thread.
    """

    def __init__(self) -> None:
        self._serializer: URLSafeTimedSerializer | None = None

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        if self._serializer is None:
            self._serializer = super().get_signing_serializer(app)
        return self._serializer


@cache
def _stylesheet() -> str:
    return (PROJECT_ROOT / "static" / "handoff.css").read_text()


def inline_stylesheet() -> Markup:
    """The stylesheet's text, for a page that must look right saved as a file (a payout statement)."""
    return Markup(_stylesheet())


def _configure(app: Flask, settings: Settings) -> None:
    secure = settings.public_base_url.startswith("https://")
    app.config.update(
        SECRET_KEY=derive_key(settings.secret_key, "flask-session"),
        SESSION_COOKIE_NAME="handoff_csrf",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=secure,
        # Checked by the hook below, which leaves the API (bearer keys, no cookies) alone.
        WTF_CSRF_CHECK_DEFAULT=False,
        # A form stays usable as long as a portal session may last, not Flask-WTF's default hour.
        WTF_CSRF_TIME_LIMIT=settings.session_max_hours * 3600,
    )


def init_app(app: Flask, settings: Settings) -> None:
    _configure(app, settings)
    app.session_interface = FormSessionInterface()
    csrf.init_app(app)

    @app.before_request
    def check_csrf() -> None:
        # Every form outside /api/ is checked; the pixel, /t/ref and the click path take no POST at all.
        if not request.path.startswith("/api/"):
            csrf.protect(apply_exemptions=True)

    @app.errorhandler(CSRFError)
    def csrf_refused(error: CSRFError) -> tuple[str, int]:
        return render_template("people/csrf_refused.html", reason=error.description), 400

    @app.after_request
    def session_headers(response: Response) -> Response:
        # A revoked or expired session's cookie is removed from the browser on the request that finds it dead.
        if request.environ.get(DEAD_COOKIE_KEY):
            clear_session_cookie(response)
        # A signed-in person's page is theirs alone: kept by no shared cache, nor shown again after sign-out.
        if request.environ.get(PERSON_KEY) is not None:
            response.headers["Cache-Control"] = "no-store"
        return response

    app.jinja_env.globals.update(current_person=current_person, inline_stylesheet=inline_stylesheet)
