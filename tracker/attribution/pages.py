"""The advertiser's conversions: the review queue (approve, reject, reverse with a reason) and all, with filters.

A decision goes through ``change_status``, the function the conversions API calls, and is refused for the
same reasons with the same words: a missing reason to reject or reverse, a conversion no longer in a
status the action starts from.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit

from flask import Blueprint, Flask, abort, redirect, render_template, request
from flask_babel import lazy_gettext as _l
from pydantic import ValidationError
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response

from core.people.access import local_path, require_person
from core.people.navigation import add_portal_page
from tracker.attribution.conversions import TransitionRefused, change_status
from tracker.attribution.portal_forms import REASON_NAMES, STATUS_NAMES, DecisionForm, FilterForm
from tracker.attribution.portal_queries import QUEUES, conversions_page, own_conversion, queue_sizes, review_queue
from tracker.attribution.schemas import StatusChangeIn
from tracker.program.portal import advertiser_principal, all_messages, own_offers, person_actor

bp = Blueprint("conversion_pages", __name__)
REVIEW, ALL = "/portal/review", "/portal/conversions"


def _shared(errors: dict[int, str] | None) -> dict:
    args = request.args
    return {
        "status_names": STATUS_NAMES,
        "reason_names": REASON_NAMES,
        "errors": errors or {},
        "done": args.get("done") if args.get("done") in STATUS_NAMES else None,
        "done_id": args.get("id", type=int),
    }


def _render_queue(query: MultiDict, errors: dict[int, str] | None = None, status: int = 200) -> tuple[str, int]:
    who = advertiser_principal()
    shown = query.get("show")
    queue = shown if isinstance(shown, str) and shown in QUEUES else QUEUES[0]
    page = review_queue(who, queue, query.get("page", 1, type=int))
    sizes = queue_sizes(who)
    body = render_template("advertiser/review.html", page=page, queue=queue, sizes=sizes, **_shared(errors))
    return body, status


def _render_all(query: MultiDict, errors: dict[int, str] | None = None, status: int = 200) -> tuple[str, int]:
    form = FilterForm(formdata=query)
    form.fill_offers(own_offers())
    form.validate()
    page = conversions_page(advertiser_principal(), form.filters(), query.get("page", 1, type=int))
    paging = {name: value for name, value in query.items(multi=True) if name not in ("page", "done", "id")}
    body = render_template("advertiser/conversions.html", page=page, form=form, paging=paging, **_shared(errors))
    return body, status


@bp.get(REVIEW)
@require_person("advertiser")
def review() -> tuple[str, int]:
    return _render_queue(request.args)


@bp.get(ALL)
@require_person("advertiser")
def conversions() -> tuple[str, int]:
    return _render_all(request.args)


def _refusal(form: DecisionForm) -> str | None:
    """Why the decision cannot be made as asked, in the API's words; None when it may go ahead."""
    if not form.validate_on_submit():
        return "; ".join(str(error) for errors in form.errors.values() for error in errors)
    try:
        StatusChangeIn(reason=form.reason.data or "")
    except ValidationError as error:
        return all_messages(error)
    action = form.action.data
    if action in ("reject", "reverse") and not (form.reason.data or "").strip():
        return f"a reason is required to {action} a conversion"
    return None


def _back(target: str | None, **notice: object) -> str:
    path = local_path(target, default=REVIEW)
    parts = urlsplit(path)
    if parts.path not in (REVIEW, ALL):
        path, parts = REVIEW, urlsplit(REVIEW)
    kept = [(name, value) for name, value in parse_qsl(parts.query) if name not in ("done", "id")]
    query = urlencode(kept + [(name, str(value)) for name, value in notice.items()])
    return f"{parts.path}?{query}" if query else parts.path


def _render_back(target: str, errors: dict[int, str], status: int) -> tuple[str, int]:
    parts = urlsplit(_back(target))
    query = MultiDict(parse_qsl(parts.query))
    render = _render_all if parts.path == ALL else _render_queue
    return render(query, errors, status)


@bp.post("/portal/conversions/<int:conversion_id>/decide")
@require_person("advertiser")
def decide(conversion_id: int) -> Response | tuple[str, int]:
    conversion = own_conversion(advertiser_principal(), conversion_id)
    if conversion is None:
        abort(404)
    form = DecisionForm()
    refusal = _refusal(form)
    if refusal is not None:
        return _render_back(form.back.data, {conversion.id: refusal}, 422)
    try:
        change_status(conversion, form.action.data, person_actor(), (form.reason.data or "").strip())
    except TransitionRefused as refused:
        return _render_back(form.back.data, {conversion.id: str(refused)}, 409)
    return redirect(_back(form.back.data, done=conversion.status, id=conversion.id))


def register(app: Flask) -> None:
    """The blueprint and this module's entries in the portal menu (core.people.navigation.add_portal_page)."""
    app.register_blueprint(bp)
    add_portal_page(app, "advertiser", REVIEW, _l("Review queue"), order=20)
    add_portal_page(app, "advertiser", ALL, _l("Conversions"), order=30)
