"""Who may see a page: ``require_person(*roles)`` for every portal view, and where to go after signing in."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import ParamSpec, TypeVar
from urllib.parse import urlencode, urlsplit

from flask import redirect, render_template, request
from werkzeug.wrappers import Response

from core.people.models import Person
from core.people.sessions import current_person

P = ParamSpec("P")
R = TypeVar("R")
HOME = "/portal"

__all__ = ["HOME", "current_person", "local_path", "login_url", "require_person"]


def local_path(target: str | None, default: str = HOME) -> str:
    """``target`` when it is a path on this site, else ``default``: never another host, however spelled."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return default
    if any(ord(char) < 0x21 or char == "\\" for char in target):
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return default
    return target


def login_url(next_path: str | None = None) -> str:
    target = local_path(next_path, default="")
    return "/login" + (f"?{urlencode({'next': target})}" if target and target != HOME else "")


def _this_page() -> str:
    return request.full_path.rstrip("?") if request.query_string else request.path


def require_person(*roles: str) -> Callable[[Callable[P, R]], Callable[P, R | Response | tuple[str, int]]]:
    """Let the view run for a signed-in person of these roles (any role when none is named).

    Anyone not signed in is sent to sign in and brought back; a person of another role gets a 403 page.
    """

    def decorator(view: Callable[P, R]) -> Callable[P, R | Response | tuple[str, int]]:
        @wraps(view)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R | Response | tuple[str, int]:
            person = current_person()
            if person is None:
                return redirect(login_url(_this_page()))
            if roles and person.role not in roles:
                return forbidden(person)
            return view(*args, **kwargs)

        return wrapper

    return decorator


def forbidden(person: Person) -> tuple[str, int]:
    return render_template("people/forbidden.html", person=person), 403
