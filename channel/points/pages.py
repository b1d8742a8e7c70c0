"""The partner's points page (balance, entries, expiring, hand points to its people) and the fund for finance.

A transfer is checked by the API's own TransferIn and made by the same ``spending.transfer`` the API calls,
so a page refuses what the API refuses, in the same words. The fund page shows what ``GET /api/v1/points/fund``
answers.
"""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, Flask, abort, redirect, render_template, request
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from pydantic import ValidationError
from sqlalchemy import select
from werkzeug.wrappers import Response
from wtforms import SelectField, StringField
from wtforms.fields.choices import SelectChoice

from channel.points.balances import PointsBalance, balance, entries
from channel.points.funds import PointsRefused, active_fund, fund_report
from channel.points.models import PointsFund
from channel.points.schemas import TransferIn
from channel.points.spending import transfer
from core.api.limits import INT_COLUMN_MAX
from core.db import db, utcnow
from core.people.access import current_person, require_person
from core.people.models import Person
from core.people.navigation import add_portal_page
from tracker.program.portal import field_errors, person_actor, show_errors

bp = Blueprint("points_pages", __name__)
PATH, FUND_PATH = "/portal/points", "/portal/points-fund"
PAGE_SIZE = 50
DEFAULT_NOTICE_DAYS = 30  # the API's notice without a fund (channel.points.api)
KIND_NAMES = {
    "accrued": _l("Earned"),
    "released": _l("Return window passed"),
    "reversed": _l("Taken back (return)"),
    "expired": _l("Expired"),
    "spent": _l("Spent"),
    "adjusted": _l("Adjusted"),
    "transfer_out": _l("Handed to a person"),
    "transfer_in": _l("Received from the company"),
}


class TransferForm(FlaskForm):
    # Any id is let through to ``transfer``: it refuses another company's person in the API's words.
    person_id = SelectField(_l("To"), validate_choice=False)
    # Text, not a number field, so TransferIn says what is wrong with it as the API would.
    points = StringField(_l("Points"))
    reason = StringField(_l("Note (optional)"))

    def fill_people(self, people: list[Person]) -> None:
        self.person_id.choices = [SelectChoice(str(person.id), person.email) for person in people]


def _partner_id() -> int:
    person = current_person()
    if person is None or person.partner_id is None:  # require_person("partner") lets only a partner in
        abort(403)
    return person.partner_id


def own_people(partner_id: int) -> list[Person]:
    """The company's active portal people, whom it may hand points to (as ``spending.transfer`` requires)."""
    statement = select(Person).where(Person.role == "partner", Person.partner_id == partner_id, Person.active.is_(True))
    return list(db.session.scalars(statement.order_by(Person.email, Person.id)))


def expiry_notice(found: PointsBalance, fund: PointsFund | None) -> bool:
    """Whether the points expiring next are within the fund's notice days, as the API's ``notice`` says."""
    if found.expiring_at is None:
        return False
    notice_days = fund.notice_days if fund is not None else DEFAULT_NOTICE_DAYS
    return found.expiring_at - utcnow() <= timedelta(days=notice_days)


def _page_number() -> int:
    # Bounded as the API bounds its offset: a page number from a hand-edited URL must not overflow the query.
    return min(max(request.args.get("page", 1, type=int) or 1, 1), INT_COLUMN_MAX // PAGE_SIZE)


def _render(form: TransferForm, status: int = 200, problems: list[str] | None = None) -> tuple[str, int]:
    partner_id = _partner_id()
    people = own_people(partner_id)
    form.fill_people(people)
    found, fund = balance(partner_id), active_fund()
    page = _page_number()
    rows = entries(partner_id, limit=PAGE_SIZE + 1, offset=(page - 1) * PAGE_SIZE)
    emails = {person.id: person.email for person in people}
    handed_to = request.args.get("to", type=int)
    body = render_template(
        "partner/points.html",
        balance=found,
        fund=fund,
        notice=expiry_notice(found, fund),
        rows=rows[:PAGE_SIZE],
        has_next=len(rows) > PAGE_SIZE,
        page=page,
        kind_names=KIND_NAMES,
        emails=emails,
        form=form,
        problems=problems or [],
        handed=request.args.get("handed", type=int),
        handed_to=emails.get(handed_to) if handed_to else None,
    )
    return body, status


@bp.get(PATH)
@require_person("partner")
def points() -> tuple[str, int]:
    return _render(TransferForm(formdata=None))


def _checked(form: TransferForm) -> TransferIn | list[str]:
    """The transfer as the API reads it, or the messages no field took (each field's are put on it)."""
    values = {
        "person_id": form.person_id.data,
        "points": (form.points.data or "").strip(),
        "reason": form.reason.data or "",
    }
    try:
        return TransferIn.model_validate(values)
    except ValidationError as error:
        return show_errors(form, field_errors(error))


@bp.post(f"{PATH}/transfer")
@require_person("partner")
def hand_points() -> Response | tuple[str, int]:
    partner_id = _partner_id()
    form = TransferForm()
    form.fill_people(own_people(partner_id))
    if not form.validate_on_submit():
        return _render(form, 400)
    checked = _checked(form)
    if not isinstance(checked, TransferIn):
        return _render(form, 422, checked)
    try:
        transfer(partner_id, checked.person_id, checked.points, person_actor(), checked.reason)
    except PointsRefused as refusal:
        db.session.rollback()
        form.points.errors = [str(refusal)]
        return _render(form, 422)
    db.session.commit()
    return redirect(f"{PATH}?handed={checked.points}&to={checked.person_id}", 303)


@bp.get(f"{PATH}/transfer")
@require_person("partner")
def back_to_the_points() -> Response:
    # A refused transfer is shown at the address it was posted to; the language switch comes back there by GET.
    return redirect(PATH, 303)


@bp.get(FUND_PATH)
@require_person("finance", "admin")
def points_fund() -> str:
    fund = active_fund()
    report = fund_report(fund) if fund is not None else None
    return render_template("finance/points_fund.html", fund=fund, report=report)


def register(app: Flask) -> None:
    """The blueprint and this module's entries in the portal menu (core.people.navigation.add_portal_page)."""
    app.register_blueprint(bp)
    add_portal_page(app, "partner", PATH, _l("Points"), order=35)
    add_portal_page(app, "finance", FUND_PATH, _l("Bonus fund"), order=30)
    add_portal_page(app, "admin", FUND_PATH, _l("Bonus fund"), order=60)
