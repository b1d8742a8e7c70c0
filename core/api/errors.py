"""JSON errors for the API: every refusal says why, and nothing becomes a bare 500 page."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response, jsonify, request
from sqlalchemy.exc import IntegrityError
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from core.api.openapi import takes_json_body
from core.db import db

log = logging.getLogger(__name__)


class ApiError(Exception):
    def __init__(self, status: int, message: str, details: Any = None, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.details = details
        self.headers = headers or {}


def commit_or_conflict(message: str) -> None:
    """Commit, turning a unique-constraint violation into a 409 that says what clashed."""
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise ApiError(409, message) from None


def error_body(status: int, message: str, details: Any = None) -> Response:
    """The one error shape of the API, described to clients as ``core.api.openapi.ErrorOut``."""
    body: dict[str, Any] = {"error": message, "status": status}
    if details is not None:
        body["details"] = details
    response = jsonify(body)
    response.status_code = status
    return response


def _wants_json() -> bool:
    return request.path.startswith("/api/") or request.path == "/healthz"


def init_app(app: Flask) -> None:
    @app.before_request
    def require_json_body() -> None:
        # Without this, a malformed body would reach validation as "no fields" and hide the real problem.
        # Only a route that reads a body asks for one; an unknown path or method is left to its 404 or 405.
        if not request.path.startswith("/api/") or request.method not in ("POST", "PUT", "PATCH"):
            return
        if request.url_rule is None or not takes_json_body(app.view_functions.get(request.url_rule.endpoint)):
            return
        if not isinstance(request.get_json(silent=True), dict):
            raise ApiError(400, "request body must be a JSON object sent as application/json")

    @app.errorhandler(ApiError)
    def api_error(exc: ApiError) -> Response:
        response = error_body(exc.status, exc.message, exc.details)
        response.headers.update(exc.headers)
        return response

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> HTTPException | Response:
        if not _wants_json():
            return exc
        response = error_body(exc.code or 500, exc.description or exc.name)
        # Keep the headers the exception's own answer carries, such as a 405's Allow.
        carried = exc.get_response().headers
        response.headers.extend((name, value) for name, value in carried if name not in response.headers)
        return response

    @app.errorhandler(RequestEntityTooLarge)
    def body_too_large(exc: RequestEntityTooLarge) -> RequestEntityTooLarge | Response:
        if not _wants_json():
            return exc
        limit = app.config["MAX_CONTENT_LENGTH"]
        return error_body(413, f"request body is larger than the limit of {limit} bytes (MAX_BODY_BYTES)")

    @app.errorhandler(Exception)
    def unexpected(exc: Exception) -> Response | tuple[str, int]:
        log.exception("unhandled error on %s %s", request.method, request.path)
        if _wants_json():
            return error_body(500, "internal error; it has been logged")
        return "internal error; it has been logged\n", 500
