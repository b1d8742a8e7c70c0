"""The admins' page for people: list them, create one, sign one out everywhere, lift a lock-out."""

from __future__ import annotations

from flask import Blueprint, Flask, abort, redirect, render_template, request
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import select
from werkzeug.wrappers import Response
from wtforms import EmailField, PasswordField, SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length

from core.db import db, utcnow
from core.people.access import require_person
from core.people.accounts import ORGANISATIONS, PersonError, create_person, is_locked, normal_email
from core.people.models import LOCALES, PERSON_ROLES, Person
from core.people.navigation import add_portal_page
from core.people.passwords import MAX_PASSWORD_LENGTH, password_problem
from core.people.sessions import revoke_sessions
from core.people.views import ROLE_NAMES

bp = Blueprint("people_admin_pages", __name__)
NONE = ""
OrganisationNames = dict[tuple[str, int], str]


def organisation_names() -> OrganisationNames:
    """Every partner's and advertiser's name by (role, id), read by table name: core does not import tracker."""
    names: OrganisationNames = {}
    for role, table_name in ORGANISATIONS.items():
        table = db.metadata.tables[table_name]
        for row in db.session.execute(select(table.c.id, table.c.name)):
            names[(role, row.id)] = row.name
    return names


# flask_wtf ships no type hints, so mypy sees FlaskForm as Any.
class PersonForm(FlaskForm):  # type: ignore[misc]
    email = EmailField(_l("Email"), validators=[DataRequired(_l("Enter the person's email address.")), Length(max=254)])
    role = SelectField(_l("Role"), choices=[SelectChoice(role, ROLE_NAMES[role]) for role in PERSON_ROLES])
    partner_id = SelectField(_l("Partner (for a partner person)"), validate_choice=True)
    advertiser_id = SelectField(_l("Advertiser (for an advertiser person)"), validate_choice=True)
    password = PasswordField(
        _l("First password"), validators=[DataRequired(_l("Enter a password.")), Length(max=MAX_PASSWORD_LENGTH)]
    )
    locale = SelectField(
        _l("Language"),
        choices=[SelectChoice(NONE, _l("The browser's")), SelectChoice("en", "English"), SelectChoice("ru", "Русский")],
    )

    def fill_choices(self, names: OrganisationNames) -> None:
        for field, role in ((self.partner_id, "partner"), (self.advertiser_id, "advertiser")):
            rows = sorted((name, key[1]) for key, name in names.items() if key[0] == role)
            field.choices = [SelectChoice(NONE, "—")] + [SelectChoice(str(i), f"{name} (#{i})") for name, i in rows]

    def check_organisation(self) -> bool:
        """The organisation the role needs, and no other, each refusal next to its select."""
        fine = True
        for field, role in ((self.partner_id, "partner"), (self.advertiser_id, "advertiser")):
            if self.role.data == role and not field.data:
                field.errors = [_l("Choose the organisation this person works for.")]
                fine = False
            elif self.role.data != role and field.data:
                field.errors = [_l("Only a person of this organisation's kind works for one; leave it empty.")]
                fine = False
        return fine

    def check_email_and_password(self) -> bool:
        """The same checks create_person makes, run first so each reason shows beside its own field."""
        try:
            normal_email(self.email.data or "")
        except PersonError:
            self.email.errors = [_l("This is not an email address.")]
        problem = password_problem(self.password.data or "")
        if problem:
            self.password.errors = [problem]
        return not self.email.errors and not self.password.errors

    def organisation_ids(self) -> dict[str, int | None]:
        chosen = {"partner_id": self.partner_id.data, "advertiser_id": self.advertiser_id.data}
        return {name: int(value) if value else None for name, value in chosen.items()}


def _people_page(form: PersonForm, names: OrganisationNames, status: int = 200) -> tuple[str, int]:
    people = db.session.scalars(select(Person).order_by(Person.email)).all()
    now = utcnow()
    rows = [(person, _organisation(person, names), is_locked(person, now)) for person in people]
    done = request.args.get("done")
    subject = db.session.get(Person, request.args.get("person", type=int) or 0) if done else None
    return render_template("admin/people.html", form=form, rows=rows, done=done, subject=subject), status


def _organisation(person: Person, names: OrganisationNames) -> str | None:
    organisation_id = person.partner_id if person.role == "partner" else person.advertiser_id
    return None if organisation_id is None else names.get((person.role, organisation_id))


@bp.get("/admin/people")
@require_person("admin")
def people() -> tuple[str, int]:
    names = organisation_names()
    form = PersonForm()
    form.fill_choices(names)
    return _people_page(form, names)


@bp.post("/admin/people")
@require_person("admin")
def create() -> Response | tuple[str, int]:
    names = organisation_names()
    form = PersonForm()
    form.fill_choices(names)
    valid = form.validate_on_submit()
    if not (valid and form.check_organisation() and form.check_email_and_password()):
        return _people_page(form, names, 400)
    locale = form.locale.data if form.locale.data in LOCALES else None
    try:
        person = create_person(
            form.email.data or "", form.password.data or "", form.role.data, locale=locale, **form.organisation_ids()
        )
    except PersonError as exc:
        db.session.rollback()
        form.email.errors = [str(exc)]  # what is left after the checks above: the address already has an account
        return _people_page(form, names, 400)
    db.session.commit()
    return redirect(f"/admin/people?done=created&person={person.id}")


def _person_or_404(person_id: int) -> Person:
    person = db.session.get(Person, person_id)
    if person is None:
        abort(404)
    return person


@bp.post("/admin/people/<int:person_id>/revoke-sessions")
@require_person("admin")
def revoke(person_id: int) -> Response:
    person = _person_or_404(person_id)
    revoke_sessions(person.id)
    db.session.commit()
    return redirect(f"/admin/people?done=revoked&person={person.id}")


@bp.post("/admin/people/<int:person_id>/unlock")
@require_person("admin")
def unlock(person_id: int) -> Response:
    person = _person_or_404(person_id)
    # As a successful sign-in does: the count starts again, and the lock is gone at once.
    person.failed_logins = 0
    person.locked_until = None
    db.session.commit()
    return redirect(f"/admin/people?done=unlocked&person={person.id}")


def register(app: Flask) -> None:
    """The blueprint and this module's entries in the portal menu (core.people.navigation.add_portal_page)."""
    app.register_blueprint(bp)
    add_portal_page(app, "admin", "/admin/people", _l("People"), order=40)
