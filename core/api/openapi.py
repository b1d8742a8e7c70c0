"""The API's description and request validation: pydantic models, published at /api/v1/openapi.json."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from flask import Flask, Response
from pydantic import BaseModel, Field, ValidationError
from spectree import SecurityScheme, SecuritySchemeData, SpecTree
from spectree.models import SecureType

from core.api.docs_pages import PAGE_TEMPLATES


class ErrorOut(BaseModel):
    """Every refusal's body under /api/ (written by ``core.api.errors.error_body``)."""

    error: str = Field(description="what was wrong, in words a person can act on")
    status: int = Field(description="the HTTP status again, for logs that keep only the body")
    details: Any = Field(None, description="when given: the fields or items concerned, e.g. one entry per bad field")


# The error answers every operation documents. Any route can meet most of them before its view runs: a
# missing key (401), another role's key (403), too many failed keys (429), a body that is not JSON (400)
# or too large (413), a path or id that names nothing (404), a method the path does not take (405).
ERRORS: dict[str, type[BaseModel]] = {
    f"HTTP_{status}": ErrorOut for status in (400, 401, 403, 404, 405, 409, 413, 422, 429)
}


def _explain_validation_error(
    req: Any, resp: Response | None, req_validation_error: Exception | None, instance: Any, model_adapter: Any
) -> None:
    """Turn pydantic's error list into the API's error shape, naming each bad field and why."""
    if not isinstance(req_validation_error, ValidationError) or resp is None:
        return
    details = [
        {
            "field": ".".join(str(part) for part in error.get("loc", ())) or "(body)",
            "reason": error.get("msg", "invalid"),
        }
        for error in req_validation_error.errors(include_url=False, include_input=False)
    ]
    summary = "; ".join(f"{d['field']}: {d['reason']}" for d in details[:5])
    resp.set_data(json.dumps({"error": f"invalid request: {summary}", "status": 422, "details": details}))
    resp.mimetype = "application/json"


api_spec = SpecTree(
    "flask",
    # The browsable pages live under /api/v1/docs/; the description itself is served at the contract's
    # /api/v1/openapi.json by ``register``. Strict mode lists only the validated API routes.
    path="api/v1/docs",
    page_templates=PAGE_TEMPLATES,  # scripts from /static/apidocs/, not a CDN: the docs work offline
    mode="strict",
    title="Handoff API",
    version="1",
    description="Partner links, clicks and statistics. Send keys as `Authorization: Bearer <key>`.",
    security_schemes=[SecurityScheme(name="bearer", data=SecuritySchemeData(type=SecureType.HTTP, scheme="bearer"))],
    security={"bearer": []},
    before=_explain_validation_error,
    validation_error_status=422,
    validation_error_model=ErrorOut,
)


def takes_json_body(view: Callable[..., Any] | None) -> bool:
    """Whether this view (or one it wraps) validates a JSON request body."""
    metadata = api_spec.get_function_metadata(view) if view is not None else None
    return metadata is not None and metadata.json is not None


def register(app: Flask) -> None:
    api_spec.register(app)
    app.add_url_rule("/api/v1/openapi.json", "openapi_description", lambda: app.json.response(api_spec.spec))
