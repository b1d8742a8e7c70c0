"""Schemathesis against the app's own /api/v1/openapi.json: every answer is one the description promises.

Requests go through the WSGI app in-process, never a socket, for an admin, an advertiser and a partner key.
Checked: no 5xx, a documented status, the documented content type and body schema, and 405 with ``Allow``
for a method a path does not take, and no 2xx for a request the description forbids. Bounded and
derandomized, so CI sees the same cases every run; CONFORMANCE_EXAMPLES=200 digs deeper by hand.
Nothing leaves the process: saving a postback URL resolves its host, and here only numeric addresses
resolve, so no name reaches DNS; sending a postback fails the test (no worker runs here to send one).
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    missing_required_header,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
    unsupported_method,
)

from app import app as description_app
from core.api.apikeys import issue_key
from core.db import db
from tests.conftest import _build, _database_url, _teardown, make_settings
from tests.factories import LinkFactory, OfferFactory, PartnerFactory

ROLES = ("admin", "advertiser", "partner")
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
    unsupported_method,
    # The API refuses what the description forbids: a schema-violating request is never a 2xx.
    negative_data_rejection,
    missing_required_header,
]
_REAL_GETADDRINFO = socket.getaddrinfo


def _numeric_only(host: Any, port: Any, family: int = 0, type: int = 0, proto: int = 0, flags: int = 0) -> Any:
    return _REAL_GETADDRINFO(host, port, family, type, proto, flags | socket.AI_NUMERICHOST)


def _never_deliver(*args: Any, **kwargs: Any) -> Any:
    raise AssertionError("the conformance run must not send a postback")


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def conformance_app(request, tmp_path_factory) -> Iterator[Any]:
    tmp_path = tmp_path_factory.mktemp("conformance")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(socket, "getaddrinfo", _numeric_only)
        patch.setattr("tracker.postbacks.delivery.fetch", _never_deliver)
        app = _build(make_settings(_database_url(request, tmp_path), tmp_path))
        yield app
        with app.app_context():
            _teardown(app)


@pytest.fixture(scope="module")
def keys(conformance_app) -> dict[str, str]:
    """A key per role, and a small program for them to find, so not every id the run tries is a 404."""
    with conformance_app.app_context():
        link = LinkFactory(offer=OfferFactory(), partner=PartnerFactory())
        scopes = {"admin": {}, "advertiser": {"advertiser_id": link.offer.advertiser_id}}
        scopes["partner"] = {"partner_id": link.partner_id}
        plaintexts = {role: issue_key(role, **scopes[role])[1] for role in ROLES}
        db.session.commit()
        return plaintexts


# The description is the same for every app; the module-level one (built on import) serves it in-process.
schema = schemathesis.openapi.from_dict(description_app.test_client().get("/api/v1/openapi.json").json)
# Stateful sequences would need links between operations the description does not declare.
schema.config.phases.update(phases=["examples", "coverage", "fuzzing"])


@schema.parametrize()
@settings(
    max_examples=int(os.environ.get("CONFORMANCE_EXAMPLES", "15")),
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_every_answer_matches_the_description(case, conformance_app, keys):
    for role in ROLES:
        headers = {"Authorization": f"Bearer {keys[role]}"}
        case.call_and_validate(app=conformance_app, headers=headers, checks=CHECKS)
