"""Signing in and out, password resets, and the portal's home page for each role."""

from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template, request
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from werkzeug.wrappers import Response

from core.api.ratelimits import rate_limits, too_many_requests
from core.db import db
from core.people.access import HOME, current_person, local_path, require_person
from core.people.accounts import PersonError, check_sign_in, organisation_name
from core.people.forms import ForgotPasswordForm, LoginForm, ResetPasswordForm
from core.people.resets import complete_reset, mail_is_configured, request_reset, usable_reset
from core.people.sessions import (
    COOKIE_NAME,
    clear_session_cookie,
    end_session,
    forget_signed_in_person,
    set_session_cookie,
    start_session,
)

bp = Blueprint("people", __name__)
ROLE_NAMES = {
    "admin": _l("Administrator"),
    "advertiser": _l("Advertiser"),
    "finance": _l("Finance"),
    "partner": _l("Partner"),
}


def _over_address_limit() -> Response | None:
    retry_after = rate_limits().hit("logins", request.remote_addr)
    return None if retry_after is None else too_many_requests(retry_after, "Too many attempts; try again later.")


@bp.route("/login", methods=["GET", "POST"])
def login() -> Response | str | tuple[str, int]:
    form = LoginForm(next=local_path(request.args.get("next")))
    if request.method == "GET" and current_person() is not None:
        return redirect(local_path(request.args.get("next")))
    if not form.validate_on_submit():
        return render_template("people/login.html", form=form, refused=False)
    refused = _over_address_limit()
    if refused is not None:
        return refused
    person = check_sign_in(form.email.data or "", form.password.data or "")
    if person is None:
        db.session.commit()  # the failure count and any lock
        return render_template("people/login.html", form=form, refused=True), 200
    end_session(request.cookies.get(COOKIE_NAME))  # a session this browser had before is not left behind
    token = start_session(person)
    db.session.commit()
    forget_signed_in_person()
    response = redirect(local_path(form.next.data))
    set_session_cookie(response, token)
    return response


@bp.post("/logout")
def logout() -> Response:
    # The form carries only its CSRF token, checked before this runs: another site cannot sign you out.
    end_session(request.cookies.get(COOKIE_NAME))
    db.session.commit()
    forget_signed_in_person()
    response = redirect("/login")
    clear_session_cookie(response)
    return response


@bp.route("/password/forgot", methods=["GET", "POST"])
def forgot_password() -> Response | str:
    form = ForgotPasswordForm()
    if not form.validate_on_submit():
        return render_template("people/forgot.html", form=form, sent=False, mail=mail_is_configured())
    refused = _over_address_limit()
    if refused is not None:
        return refused
    request_reset(form.email.data or "", str(get_locale() or "en"))
    return render_template("people/forgot.html", form=form, sent=True, mail=mail_is_configured())


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
def reset_password(token: str) -> Response | str | tuple[str, int]:
    if usable_reset(token) is None:
        return render_template("people/reset.html", form=None), 404
    form = ResetPasswordForm()
    if not form.validate_on_submit():
        return render_template("people/reset.html", form=form)
    try:
        person = complete_reset(token, form.password.data or "")
    except PersonError as exc:
        form.password.errors = [str(exc)]
        return render_template("people/reset.html", form=form), 200
    if person is None:
        return render_template("people/reset.html", form=None), 404
    db.session.commit()
    response = redirect("/login?reset=1")
    clear_session_cookie(response)
    return response


@bp.get("/portal")
@require_person()
def portal() -> str:
    person = current_person()
    if person is None:  # require_person lets no one else in
        abort(403)
    organisation_id = person.partner_id if person.role == "partner" else person.advertiser_id
    return render_template(
        "people/portal.html",
        person=person,
        organisation=organisation_name(person.role, organisation_id),
    )


@bp.app_context_processor
def layout_names() -> dict[str, object]:
    """What base.html and the people pages name: the portal's address and the roles' names in the reader's language."""
    return {"home_path": HOME, "role_names": ROLE_NAMES}
