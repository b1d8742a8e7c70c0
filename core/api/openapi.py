"""The API's description and request validation: pydantic models, published at /api/v1/openapi.json."""

from __future__ import annotations

import json
from typing import Any

from flask import Flask, Response
from pydantic import ValidationError
from spectree import SecurityScheme, SecuritySchemeData, SpecTree
from spectree.models import SecureType


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
    mode="strict",
    title="Handoff API",
    version="1",
    description="Partner links, clicks and statistics. Send keys as `Authorization: Bearer <key>`.",
    security_schemes=[SecurityScheme(name="bearer", data=SecuritySchemeData(type=SecureType.HTTP, scheme="bearer"))],
    security={"bearer": []},
    before=_explain_validation_error,
    validation_error_status=422,
)


def register(app: Flask) -> None:
    api_spec.register(app)
    app.add_url_rule("/api/v1/openapi.json", "openapi_description", lambda: app.json.response(api_spec.spec))
