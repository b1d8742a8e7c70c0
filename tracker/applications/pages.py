"""The public /apply form and the admins' /admin/applications list, where each application is decided."""

from __future__ import annotations

from flask import Blueprint, Flask, abort, redirect, render_template, request
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import case, select
from werkzeug.wrappers import Response

from core.api.ratelimits import rate_limits, too_many_requests
from core.db import db
from core.people.access import current_person, require_person
from core.people.models import Person
from core.people.navigation import add_portal_page
from tracker.applications.decisions import AlreadyDecided, ApprovalRefused, approve, reject
from tracker.applications.forms import ApplicationForm, RejectionForm
from tracker.applications.models import PartnerApplication
from tracker.applications.tax_ids import checked_tax_id
from tracker.program.labels import PARTNER_KIND_NAMES

bp = Blueprint("application_pages", __name__)


@bp.route("/apply", methods=["GET", "POST"])
def apply() -> Response | str:
    form = ApplicationForm()
    if not form.validate_on_submit():
        return render_template("apply/form.html", form=form)
    # Counted only for a form that would be stored: the table grows by at most this many rows per address.
    retry_after = rate_limits().hit("applications", request.remote_addr)
    if retry_after is not None:
        return too_many_requests(retry_after, "Too many applications from this address; try again later.")
    db.session.add(_application_from(form))
    db.session.commit()
    return redirect("/apply/thanks")


def _application_from(form: ApplicationForm) -> PartnerApplication:
    return PartnerApplication(
        company=form.company.data.strip(),
        contact_name=form.contact_name.data.strip(),
        email=form.email.data.strip(),
        kind=form.kind.data,
        country=form.country.data,
        tax_id=checked_tax_id(form.country.data, form.tax_id.data),
        website=form.website.data.strip(),
        promotion=form.promotion.data.strip(),
        locale=str(get_locale() or "en"),
        status="pending",
    )


@bp.get("/apply/thanks")
def thanks() -> str:
    return render_template("apply/thanks.html")


@bp.get("/admin/applications")
@require_person("admin")
def applications() -> str:
    pending_first = case((PartnerApplication.status == "pending", 0), else_=1)
    statement = select(PartnerApplication).order_by(pending_first, PartnerApplication.created_at.desc())
    rows = db.session.scalars(statement.limit(500)).all()
    return render_template("admin/applications.html", applications=rows, kind_names=PARTNER_KIND_NAMES)


def _application_or_404(application_id: int) -> PartnerApplication:
    application = db.session.get(PartnerApplication, application_id)
    if application is None:
        abort(404)
    return application


def _detail(application: PartnerApplication, status: int = 200, **values: object) -> tuple[str, int]:
    values.setdefault("rejection", RejectionForm())
    decider = db.session.get(Person, application.decided_by) if application.decided_by else None
    page = render_template(
        "admin/application.html", application=application, decider=decider, kind_names=PARTNER_KIND_NAMES, **values
    )
    return page, status


@bp.get("/admin/applications/<int:application_id>")
@require_person("admin")
def application(application_id: int) -> tuple[str, int]:
    return _detail(_application_or_404(application_id))


@bp.post("/admin/applications/<int:application_id>/approve")
@require_person("admin")
def approve_application(application_id: int) -> tuple[str, int]:
    application = _application_or_404(application_id)
    decider = current_person()
    assert decider is not None  # require_person lets no one else in
    try:
        approval = approve(application, decider, str(get_locale() or "en"))
    except AlreadyDecided:
        return _detail(application, 409, already_decided=True)
    except ApprovalRefused as error:
        return _detail(application, 422, refused=str(error))
    # The link, when there is one, is shown this once: only its hash is stored, and the page is not cached.
    return _detail(application, approval=approval)


@bp.post("/admin/applications/<int:application_id>/reject")
@require_person("admin")
def reject_application(application_id: int) -> Response | tuple[str, int]:
    application = _application_or_404(application_id)
    form = RejectionForm()
    if not form.validate_on_submit():
        return _detail(application, 400, rejection=form)
    decider = current_person()
    assert decider is not None
    try:
        reject(application, decider, form.reason.data)
    except AlreadyDecided:
        return _detail(application, 409, already_decided=True)
    return redirect(f"/admin/applications/{application.id}")


def register(app: Flask) -> None:
    """The blueprint and the admins' menu entry; tracker/__init__.py calls it like the other pages' register."""
    app.register_blueprint(bp)
    add_portal_page(app, "admin", "/admin/applications", _l("Applications"), order=10)
