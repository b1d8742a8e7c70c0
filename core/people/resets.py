"""Password resets: a one-use link valid for an hour, sent by SMTP (or, embedded without SMTP, logged)."""

from __future__ import annotations

import logging
import secrets
import smtplib
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from email.message import EmailMessage

from flask import current_app
from flask_babel import force_locale, gettext
from sqlalchemy import select, update

from core.db import db, utcnow
from core.people.accounts import find_person, set_password
from core.people.models import PasswordReset, Person
from core.people.sessions import hash_token, revoke_sessions
from core.settings import Settings

log = logging.getLogger(__name__)
RESET_VALID_FOR = timedelta(hours=1)
SMTP_TIMEOUT_SECONDS = 15
# Mail goes out on a thread: a known address must answer as fast as an unknown one, and a slow mail
# server must not hold a web worker.
_mail_pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="handoff-mail")


def _settings() -> Settings:
    settings: Settings = current_app.extensions["handoff.settings"]
    return settings


def mail_is_configured() -> bool:
    return _settings().smtp_host is not None


def request_reset(email: str, locale: str) -> None:
    """Store and send a reset link if an active person has ``email``; the same silence either way. Commits."""
    person = find_person(email)
    if person is None or not person.active:
        return
    link = new_reset_link(person)
    settings = _settings()
    if settings.smtp_host is None:
        if settings.production:
            log.warning("password reset for person %s not sent: SMTP_HOST is not set", person.id)
        else:
            log.info("password reset link for %s (SMTP_HOST not set, so not sent): %s", person.email, link)
        return
    message = _reset_message(settings, person, link, person.locale or locale)
    _mail_pool.submit(_send, settings, message)


def new_reset_link(person: Person) -> str:
    """Store a one-use reset for the person and return its link; commits, so the link works once sent or shown."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    db.session.add(
        PasswordReset(
            token_hash=hash_token(token), person_id=person.id, created_at=now, expires_at=now + RESET_VALID_FOR
        )
    )
    db.session.commit()
    return f"{_settings().public_base_url}/password/reset/{token}"


def _reset_message(settings: Settings, person: Person, link: str, locale: str) -> EmailMessage:
    with force_locale(locale):
        subject = gettext("Reset your Handoff password")
        body = gettext(
            "Someone asked to reset the password of your Handoff account %(email)s.\n\n"
            "To choose a new password, open this link within an hour:\n%(link)s\n\n"
            "If it was not you, ignore this message: your password stays as it is.",
            email=person.email,
            link=link,
        )
    message = EmailMessage()
    message["From"] = settings.smtp_sender
    message["To"] = person.email
    message["Subject"] = subject
    message.set_content(body)
    return message


def _send(settings: Settings, message: EmailMessage) -> None:
    assert settings.smtp_host is not None  # only called with a host
    try:
        with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=SMTP_TIMEOUT_SECONDS) as smtp:
            smtp.send_message(message)
    except (OSError, smtplib.SMTPException):
        log.exception("password reset mail to %s not sent", message["To"])


def usable_reset(token: str) -> PasswordReset | None:
    return db.session.scalar(
        select(PasswordReset).where(
            PasswordReset.token_hash == hash_token(token),
            PasswordReset.used_at.is_(None),
            PasswordReset.expires_at > utcnow(),
        )
    )


def complete_reset(token: str, password: str) -> Person | None:
    """Set the new password and end every session of the person; None when the link is used up or expired.

    Raises PersonError for a password that cannot be used (the link stays usable). The caller commits.
    """
    reset = usable_reset(token)
    person = None if reset is None else db.session.get(Person, reset.person_id)
    if reset is None or person is None or not person.active:
        return None
    set_password(person, password)
    # Marked used only if still unused: two tabs sending one link at once change the password once.
    claimed = db.session.execute(
        update(PasswordReset)
        .where(PasswordReset.id == reset.id, PasswordReset.used_at.is_(None))
        .values(used_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        db.session.rollback()
        return None
    revoke_sessions(person.id)
    return person
