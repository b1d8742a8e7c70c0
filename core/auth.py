"""Who is calling the API: ``Authorization: Bearer <key>``, one role per key, scoped data."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import ParamSpec, TypeVar

from flask import g, request

from core.apikeys import find_active_key
from core.errors import ApiError

P = ParamSpec("P")
R = TypeVar("R")


@dataclass(frozen=True)
class Principal:
    key_id: int
    role: str
    advertiser_id: int | None
    partner_id: int | None


def _authenticate() -> Principal:
    header = request.headers.get("Authorization", "")
    scheme, _, credentials = header.partition(" ")
    if scheme.lower() != "bearer" or not credentials.strip():
        raise ApiError(401, "send your API key as 'Authorization: Bearer <key>'")
    key = find_active_key(credentials.strip())
    if key is None:
        raise ApiError(401, "unknown or revoked API key")
    return Principal(key.id, key.role, key.advertiser_id, key.partner_id)


def require_roles(*roles: str) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Let the view run only for keys of these roles; ``g.principal`` holds the caller."""

    def decorator(view: Callable[P, R]) -> Callable[P, R]:
        @wraps(view)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            principal = _authenticate()
            if principal.role not in roles:
                raise ApiError(403, f"a {principal.role} key cannot do this; needs {' or '.join(roles)}")
            g.principal = principal
            return view(*args, **kwargs)

        return wrapper

    return decorator


def principal() -> Principal:
    who: Principal = g.principal
    return who


def actor_name(who: Principal) -> str:
    """How a change made with this key is signed in the records it leaves (status history, adjustments)."""
    return f"{who.role} key #{who.key_id}"
