"""Portal sessions: a random token in an HttpOnly cookie, its hash in ``person_sessions``.

Every page request looks the token up, so a revoked, expired or idle session is gone on the next request,
whichever node answers it. Flask's own cookie session is not used for this (it holds only the CSRF token).
"""

from __future__ import annotations

import hashlib
import ipaddress
import secrets
from datetime import datetime, timedelta

from flask import current_app, has_request_context, request
from sqlalchemy import select, update
from werkzeug.wrappers import Response

from core.db import db, utcnow
from core.people.models import Person, PersonSession
from core.settings import Settings

COOKIE_NAME = "handoff_session"
USER_AGENT_CHARS = 200
# last_seen_at is written at most this often per session: a page view need not always be a database write.
TOUCH_EVERY = timedelta(seconds=60)
# Kept in the request's environ rather than ``g``: a test's outer app context shares one ``g`` across requests.
PERSON_KEY = "handoff.person"
DEAD_COOKIE_KEY = "handoff.dead_session_cookie"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _settings() -> Settings:
    settings: Settings = current_app.extensions["handoff.settings"]
    return settings


def _network_of(address: str | None) -> str | None:
    """The /24 (IPv6: /48) the request came from: enough to recognise a session's place, not the person's address."""
    try:
        ip = ipaddress.ip_address(address or "")
    except ValueError:
        return None
    return str(ipaddress.ip_network(f"{ip}/{24 if ip.version == 4 else 48}", strict=False))


def start_session(person: Person) -> str:
    """Add a session row for ``person`` (the caller commits) and return the token for the cookie."""
    settings, now = _settings(), utcnow()
    token = secrets.token_urlsafe(32)
    db.session.add(
        PersonSession(
            token_hash=hash_token(token),
            person_id=person.id,
            created_at=now,
            last_seen_at=now,
            expires_at=now + timedelta(hours=settings.session_max_hours),
            ip_prefix=_network_of(request.remote_addr),
            user_agent=(request.user_agent.string or "")[:USER_AGENT_CHARS],
        )
    )
    return token


def set_session_cookie(response: Response, token: str) -> None:
    settings = _settings()
    response.set_cookie(
        COOKIE_NAME,
        token,
        max_age=settings.session_max_hours * 3600,
        httponly=True,
        samesite="Lax",
        secure=settings.public_base_url.startswith("https://"),
    )


def clear_session_cookie(response: Response) -> None:
    response.delete_cookie(COOKIE_NAME, httponly=True, samesite="Lax")


def _live_session(token: str, now: datetime) -> tuple[PersonSession, Person] | None:
    idle_since = now - timedelta(minutes=_settings().session_idle_minutes)
    row = db.session.execute(
        select(PersonSession, Person)
        .join(Person, Person.id == PersonSession.person_id)
        .where(
            PersonSession.token_hash == hash_token(token),
            PersonSession.revoked_at.is_(None),
            PersonSession.expires_at > now,
            PersonSession.last_seen_at > idle_since,
            Person.active.is_(True),
        )
    ).first()
    return None if row is None else (row[0], row[1])


def current_person() -> Person | None:
    """The person signed in on this request, looked up once per request; None for anyone else."""
    if not has_request_context():  # a page rendered by a command has no reader
        return None
    if PERSON_KEY in request.environ:
        person: Person | None = request.environ[PERSON_KEY]
        return person
    token = request.cookies.get(COOKIE_NAME)
    found = _live_session(token, utcnow()) if token else None
    if token and found is None:
        request.environ[DEAD_COOKIE_KEY] = True
    person = None
    if found is not None:
        session, person = found
        _touch(session)
    request.environ[PERSON_KEY] = person
    return person


def _touch(session: PersonSession) -> None:
    now = utcnow()
    if now - session.last_seen_at < TOUCH_EVERY:
        return
    db.session.execute(
        update(PersonSession)
        .where(PersonSession.id == session.id)
        .values(last_seen_at=now)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()


def end_session(token: str | None) -> None:
    """Revoke the session of this token, if any (the caller commits)."""
    if token:
        db.session.execute(
            update(PersonSession)
            .where(PersonSession.token_hash == hash_token(token), PersonSession.revoked_at.is_(None))
            .values(revoked_at=utcnow())
            .execution_options(synchronize_session=False)
        )


def revoke_sessions(person_id: int) -> int:
    """Revoke every live session of a person (the caller commits); how many there were."""
    result = db.session.execute(
        update(PersonSession)
        .where(PersonSession.person_id == person_id, PersonSession.revoked_at.is_(None))
        .values(revoked_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    count: int = result.rowcount  # type: ignore[attr-defined]
    return count


def forget_signed_in_person() -> None:
    """Drop this request's cached person, after signing in or out."""
    request.environ.pop(PERSON_KEY, None)
