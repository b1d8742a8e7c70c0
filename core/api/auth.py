"""Who is calling the API: ``Authorization: Bearer <key>``, one role per key, scoped data."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import ParamSpec, TypeVar

from flask import Flask, current_app, g, request
from sqlalchemy.exc import SQLAlchemyError

from core.api.apikeys import LAST_USED_RESOLUTION, find_active_key, hash_key, record_key_use
from core.api.errors import ApiError
from core.api.ratelimits import rate_limits
from core.config_cache import VersionedCache
from core.db import db

P = ParamSpec("P")
R = TypeVar("R")
log = logging.getLogger(__name__)
_PRINCIPAL_KEY = "handoff.principal"
_USE_STAMPED = "handoff.key_use_stamped"
# Keys found active, per worker, while no key was issued or revoked since (core.config_cache); a busy
# integration's requests skip the key lookup, and a revocation is seen by the very next request.
_KEYS: VersionedCache[Principal] = VersionedCache("api-keys")


@dataclass(frozen=True)
class Principal:
    key_id: int
    role: str
    advertiser_id: int | None
    partner_id: int | None


class _UnknownKey(LookupError):
    """Raised inside the cache's loader so that an unknown or revoked key is never kept."""


def _load_principal(plaintext: str) -> Principal:
    key = find_active_key(plaintext)
    if key is None:
        raise _UnknownKey()
    return Principal(key.id, key.role, key.advertiser_id, key.partner_id)


def _authenticate() -> Principal:
    header = request.headers.get("Authorization", "")
    scheme, _, credentials = header.partition(" ")
    if scheme.lower() != "bearer" or not credentials.strip():
        raise ApiError(401, "send your API key as 'Authorization: Bearer <key>'")
    plaintext = credentials.strip()
    try:
        # By the key's hash, never the key itself; a revocation bumps the cache's version (ApiKey is watched).
        who = _KEYS.get(hash_key(plaintext), lambda: _load_principal(plaintext))
    except _UnknownKey:
        raise ApiError(401, "unknown or revoked API key") from None
    _stamp_use(who)
    return who


def _stamp_use(who: Principal) -> None:
    """Record the key's use at most once a minute per worker, so a busy key's requests rarely write.

    This runs before the view has done anything, so committing here commits only the stamp. A failed
    stamp is logged and never refuses the request: "last used" is for people, not for access.
    """
    stamped: dict[int, float] = current_app.extensions.setdefault(_USE_STAMPED, {})
    now = time.monotonic()
    if now - stamped.get(who.key_id, -float("inf")) < LAST_USED_RESOLUTION.total_seconds():
        return
    stamped[who.key_id] = now
    try:
        record_key_use(who.key_id)
        db.session.commit()
    except SQLAlchemyError as exc:
        db.session.rollback()
        log.warning("could not record the use of API key #%s: %s", who.key_id, exc)


def _authenticate_limited() -> Principal:
    """Only failures count against the address, so a busy client with a good key never uses up its limit; an
    address past it is refused before its key is looked up, or a guess that happened to be right would pass."""
    limits, address = rate_limits(), request.remote_addr
    retry_after = limits.exceeded("auth_failures", address)
    if retry_after is not None:
        raise ApiError(
            429,
            f"too many failed API keys from this address; retry in {retry_after} s",
            headers={"Retry-After": str(retry_after)},
        )
    try:
        return _authenticate()
    except ApiError:
        limits.hit("auth_failures", address)
        raise


def _authorize(roles: tuple[str, ...]) -> Principal:
    # The key is looked up once per request, by whichever of the hook and the view's wrapper asks first.
    who: Principal | None = request.environ.get(_PRINCIPAL_KEY)
    if who is None:
        who = request.environ[_PRINCIPAL_KEY] = _authenticate_limited()
    if who.role not in roles:
        raise ApiError(403, f"a {who.role} key cannot do this; needs {' or '.join(roles)}")
    return who


def require_roles(*roles: str) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Let the view run only for keys of these roles; ``g.principal`` holds the caller."""

    def decorator(view: Callable[P, R]) -> Callable[P, R]:
        @wraps(view)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            g.principal = _authorize(roles)
            return view(*args, **kwargs)

        # Read by the hook in ``init_app``, which checks the key before anything reads the body.
        wrapper.required_roles = roles  # type: ignore[attr-defined]
        return wrapper

    return decorator


def init_app(app: Flask) -> None:
    """Check the key of a route that needs one before anything reads the request body.

    A caller without a valid key is answered 401 (a key of another role 403) before its body is read,
    parsed or size-checked; ``create_app`` registers this hook ahead of ``core.api.errors``' body check.
    """

    @app.before_request
    def authorize_before_body() -> None:
        rule = request.url_rule
        if rule is None or (request.method == "OPTIONS" and getattr(rule, "provide_automatic_options", False)):
            return  # no route, or Flask's own OPTIONS answer, which never runs the view
        roles: tuple[str, ...] | None = getattr(app.view_functions.get(rule.endpoint), "required_roles", None)
        if roles is not None:
            _authorize(roles)


def principal() -> Principal:
    who: Principal = g.principal
    return who


def actor_name(who: Principal) -> str:
    """How a change made with this key is signed in the records it leaves (status history, adjustments)."""
    return f"{who.role} key #{who.key_id}"
