"""``flask --app app users ...``: create people, list them, end their sessions."""

from __future__ import annotations

import click
from sqlalchemy import select

from core.db import db
from core.people.accounts import PersonError, create_person, find_person
from core.people.models import PERSON_ROLES, Person
from core.people.sessions import revoke_sessions


@click.group("users")
def users_group() -> None:
    """Create and list the people who sign in to the portal."""


@users_group.command("create")
@click.option("--email", required=True)
@click.option("--password", help="Asked for (hidden, twice) when not given.")
@click.option("--role", type=click.Choice(PERSON_ROLES), required=True)
@click.option("--advertiser-id", type=int, help="The advertiser an advertiser person works for.")
@click.option("--partner-id", type=int, help="The partner a partner person works for.")
@click.option("--locale", type=click.Choice(("en", "ru")), help="The person's language; else the browser's.")
def create_user_command(
    email: str,
    password: str | None,
    role: str,
    advertiser_id: int | None,
    partner_id: int | None,
    locale: str | None,
) -> None:
    """Create a person who signs in with this email and password."""
    if password is None:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        person = create_person(email, password, role, partner_id=partner_id, advertiser_id=advertiser_id, locale=locale)
        db.session.commit()
    except PersonError as exc:
        db.session.rollback()
        raise click.ClickException(str(exc)) from None
    click.echo(f"person {person.id}: {person.email} ({person.role})")


@users_group.command("list")
def list_users_command() -> None:
    """List every person: id, email, role, organisation, active, last sign-in."""
    people = db.session.scalars(select(Person).order_by(Person.id)).all()
    click.echo(f"{'id':>5}  {'email':<36} {'role':<11} {'organisation':<16} {'active':<7} last sign-in")
    for person in people:
        organisation = (
            f"partner {person.partner_id}"
            if person.partner_id
            else f"advertiser {person.advertiser_id}"
            if person.advertiser_id
            else "-"
        )
        last = person.last_login_at.strftime("%Y-%m-%d %H:%M UTC") if person.last_login_at else "never"
        active = "yes" if person.active else "no"
        click.echo(f"{person.id:>5}  {person.email:<36} {person.role:<11} {organisation:<16} {active:<7} {last}")


@users_group.command("revoke-sessions")
@click.option("--email", required=True)
def revoke_sessions_command(email: str) -> None:
    """Sign a person out everywhere: every session ends on its next request."""
    person = find_person(email)
    if person is None:
        raise click.ClickException(f"no person has the email {email!r}")
    count = revoke_sessions(person.id)
    db.session.commit()
    click.echo(f"revoked {count} session(s) of {person.email}")
