"""Creating people, checking their passwords, and locking a person out after repeated failures."""

from __future__ import annotations

from datetime import datetime, timedelta

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from core.db import db, utcnow
from core.people.models import PERSON_ROLES, Person
from core.people.passwords import (
    hash_password,
    needs_rehash,
    password_problem,
    spend_verification_time,
    verify_password,
)

MAX_FAILED_LOGINS = 5
LOCK_OUT = timedelta(minutes=15)
ORGANISATIONS = {"partner": "partners", "advertiser": "advertisers"}


class PersonError(ValueError):
    """A person cannot be created or changed as asked; the message says why."""


def normal_email(email: str) -> str:
    """The address as stored: checked for shape (not deliverability) and lower-cased whole."""
    try:
        return validate_email(email.strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError as exc:
        raise PersonError(f"{email!r} is not an email address: {exc}") from None


def organisation_name(role: str, organisation_id: int | None) -> str | None:
    """The partner's or advertiser's name, read by table name: core does not import the tracker that owns it."""
    table_name = ORGANISATIONS.get(role)
    if table_name is None or organisation_id is None:
        return None
    table = db.metadata.tables[table_name]
    name: str | None = db.session.scalar(select(table.c.name).where(table.c.id == organisation_id))
    return name


def _check_organisation(role: str, partner_id: int | None, advertiser_id: int | None) -> None:
    if role not in PERSON_ROLES:
        raise PersonError(f"role must be one of {', '.join(PERSON_ROLES)}")
    for kind, given in (("partner", partner_id), ("advertiser", advertiser_id)):
        if role == kind and given is None:
            raise PersonError(f"a {kind} person needs --{kind}-id")
        if role != kind and given is not None:
            raise PersonError(f"only a {kind} person has a {kind} id; a {role} belongs to no organisation")
    organisation_id = partner_id if role == "partner" else advertiser_id
    # A plain select, so the message names the missing id; a foreign key error would say only "constraint failed".
    if organisation_id is not None and organisation_name(role, organisation_id) is None:
        raise PersonError(f"there is no {role} with id {organisation_id}")


def create_person(
    email: str,
    password: str,
    role: str,
    *,
    partner_id: int | None = None,
    advertiser_id: int | None = None,
    locale: str | None = None,
) -> Person:
    """Add a person to the session (the caller commits); refused with a PersonError that says why."""
    address = normal_email(email)
    _check_organisation(role, partner_id, advertiser_id)
    problem = password_problem(password)
    if problem:
        raise PersonError(problem)
    if db.session.scalar(select(Person.id).where(Person.email == address)) is not None:
        raise PersonError(f"{address} already has an account")
    person = Person(
        email=address,
        password_hash=hash_password(password),
        role=role,
        partner_id=partner_id,
        advertiser_id=advertiser_id,
        locale=locale,
        active=True,
        failed_logins=0,
    )
    db.session.add(person)
    try:
        db.session.flush()
    except IntegrityError:
        # Two creations of one address at once: the unique email lets one through; the check above missed the other.
        db.session.rollback()
        raise PersonError(f"{address} already has an account") from None
    return person


def find_person(email: str) -> Person | None:
    try:
        address = normal_email(email)
    except PersonError:
        return None
    return db.session.scalar(select(Person).where(Person.email == address))


def set_password(person: Person, password: str) -> None:
    problem = password_problem(password)
    if problem:
        raise PersonError(problem)
    person.password_hash = hash_password(password)
    person.failed_logins = 0
    person.locked_until = None


def is_locked(person: Person, now: datetime) -> bool:
    return person.locked_until is not None and person.locked_until > now


def check_sign_in(email: str, password: str) -> Person | None:
    """The person these credentials sign in, else None; every refusal costs one argon2 verification.

    An unknown address, a wrong password, a locked or inactive account all answer None, so the caller can
    give one answer to all of them. The caller commits (failure counts and rehashes included).
    """
    now = utcnow()
    person = find_person(email)
    if person is None or not person.active or is_locked(person, now):
        spend_verification_time(password)
        return None
    if not verify_password(person.password_hash, password):
        _count_failure(person, now)
        return None
    if needs_rehash(person.password_hash):
        person.password_hash = hash_password(password)
    person.failed_logins = 0
    person.locked_until = None
    person.last_login_at = now
    return person


def _count_failure(person: Person, now: datetime) -> None:
    # Counted in the database, not read-then-set: concurrent guesses must each count.
    failures = db.session.execute(
        update(Person)
        .where(Person.id == person.id)
        .values(failed_logins=Person.failed_logins + 1)
        .returning(Person.failed_logins)
        .execution_options(synchronize_session=False)
    ).scalar_one()
    if failures >= MAX_FAILED_LOGINS:
        # The count starts again after the lock, so the person has five more tries once it ends.
        db.session.execute(
            update(Person)
            .where(Person.id == person.id)
            .values(failed_logins=0, locked_until=now + LOCK_OUT)
            .execution_options(synchronize_session=False)
        )
    db.session.expire(person)
