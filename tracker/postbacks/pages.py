"""The partner's postback: its URL, a test that is queued, and the delivery log.

Saving and testing go through the API's own functions (tracker.postbacks.api): the same template rules,
the same check that the host is public (no request to our own network), the same queued test.
"""

from __future__ import annotations

from flask import Blueprint, Flask, redirect, render_template, request
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from pydantic import ValidationError
from werkzeug.wrappers import Response
from wtforms import BooleanField, StringField
from wtforms.validators import DataRequired

from core.api.errors import ApiError
from core.people.access import require_person
from core.people.navigation import add_portal_page
from tracker.postbacks.api import find_endpoint, latest_deliveries, send_test, set_postback
from tracker.postbacks.messages import MACROS
from tracker.postbacks.models import PostbackEndpoint
from tracker.postbacks.schemas import PostbackIn
from tracker.program.partner_portal import field_errors, partner_principal

bp = Blueprint("postback_pages", __name__)
PATH = "/portal/postback"
DELIVERIES_SHOWN = 50


class PostbackForm(FlaskForm):
    url_template = StringField(_l("Postback URL"), validators=[DataRequired(_l("Enter your postback URL."))])
    active = BooleanField(_l("Active: send a postback for each conversion"), default=True)
    rotate_secret = BooleanField(_l("Issue a new signing secret (the current one stops working)"))


def _partner_id() -> int:
    partner_id = partner_principal().partner_id
    if partner_id is None:  # a partner principal always has its partner
        raise LookupError("a partner principal without a partner")
    return partner_id


def _render(form: PostbackForm, endpoint: PostbackEndpoint | None, status: int = 200, refusal: str | None = None):
    page = render_template(
        "partner/postback.html",
        form=form,
        endpoint=endpoint,
        deliveries=latest_deliveries(endpoint.partner_id, DELIVERIES_SHOWN) if endpoint else [],
        macros=MACROS,
        saved=request.args.get("saved") == "1",
        queued=request.args.get("queued") == "1",
        refusal=refusal,
    )
    return page, status


@bp.get(PATH)
@require_person("partner")
def postback() -> tuple[str, int]:
    endpoint = find_endpoint(_partner_id())
    form = PostbackForm(formdata=None, obj=endpoint)
    return _render(form, endpoint)


@bp.post(PATH)
@require_person("partner")
def save_postback() -> tuple[str, int] | Response:
    # The CSRF token is checked (core.people.browser) before this runs.
    partner_id = _partner_id()
    form = PostbackForm()
    if not form.validate():
        return _render(form, find_endpoint(partner_id), 400)
    try:
        json = PostbackIn(
            url_template=form.url_template.data.strip(), active=form.active.data, rotate_secret=form.rotate_secret.data
        )
        set_postback(partner_id, json)
    except ValidationError as invalid:
        form.url_template.errors = list(field_errors(invalid).values())[:1]
    except ApiError as refused:
        form.url_template.errors = [refused.message]
    else:
        return redirect(f"{PATH}?saved=1", code=303)
    return _render(form, find_endpoint(partner_id), 400)


@bp.post(f"{PATH}/test")
@require_person("partner")
def queue_test() -> tuple[str, int] | Response:
    """Queue a test as POST /api/v1/postback/test does; the worker sends it and the log shows how it went."""
    endpoint = find_endpoint(_partner_id())
    form = PostbackForm(formdata=None, obj=endpoint)
    if endpoint is None:
        return _render(form, None, 409, gettext("Set your postback URL first."))
    try:
        send_test(endpoint)
    except ApiError:
        return _render(form, endpoint, 409, gettext("Your postback is inactive: make it active to send a test."))
    return redirect(f"{PATH}?queued=1", code=303)


def register(app: Flask) -> None:
    """The blueprint and this module's entries in the portal menu (core.people.navigation.add_portal_page)."""
    app.register_blueprint(bp)
    add_portal_page(app, "partner", PATH, _l("Postback"), order=60)
