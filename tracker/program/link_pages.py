"""The partner's link builder: an offer, sub-ids and a deep link checked against the offer's allowed hosts."""

from __future__ import annotations

from urllib.parse import urlencode

from flask import Blueprint, Flask, abort, redirect, render_template, request
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from pydantic import ValidationError
from werkzeug.wrappers import Response
from wtforms import SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from core.api.auth import Principal
from core.api.errors import ApiError
from core.db import db
from core.people.access import require_person
from core.people.navigation import add_portal_page
from tracker.program.api import add_link, link_out
from tracker.program.links import MAX_URL_LENGTH, DeepLinkRefused, checked_deep_link, offer_allowed_hosts
from tracker.program.models import SUB_IDS, Link, Offer
from tracker.program.partner_portal import field_errors, partner_principal
from tracker.program.schemas import LinkIn
from tracker.program.scopes import links_visible_to, offers_visible_to

bp = Blueprint("link_pages", __name__)
PATH = "/portal/links"
LINKS_SHOWN = 200
SUB_ID_LENGTH = 255  # as the links table and the API's SubId take them


def _sub_field(number: int) -> StringField:
    return StringField(_l("Sub-id %(number)s", number=number), validators=[Optional(), Length(max=SUB_ID_LENGTH)])


class LinkForm(FlaskForm):
    offer_id = SelectField(_l("Offer"), validators=[DataRequired(_l("Choose an offer."))], validate_choice=True)
    sub1 = _sub_field(1)
    sub2 = _sub_field(2)
    sub3 = _sub_field(3)
    sub4 = _sub_field(4)
    sub5 = _sub_field(5)
    deep_link = StringField(_l("Deep link (optional)"), validators=[Optional(), Length(max=MAX_URL_LENGTH)])

    def fill_choices(self, offers: list[Offer]) -> None:
        self.offer_id.choices = [SelectChoice("", _l("Choose an offer"))] + [
            SelectChoice(str(offer.id), f"{offer.name} ({offer.slug})") for offer in offers
        ]

    def link_in(self) -> LinkIn:
        """The API's own request body; its schema refuses what the API refuses (control characters, ...)."""
        subs = {name: getattr(self, name).data or None for name in SUB_IDS}
        return LinkIn.model_validate({"offer_id": int(self.offer_id.data), **subs})


def promotable_offers(who: Principal) -> list[Offer]:
    """The offers the partner may promote: those GET /api/v1/offers lists for its key."""
    return list(db.session.scalars(offers_visible_to(who).order_by(Offer.name, Offer.id)))


def tracking_url(link: Link, deep_link: str | None) -> str:
    """The link's URL, with ``?to=`` when the click should land on a deep page (tracker/clicks/redirect.py)."""
    url = link_out(link).url
    return f"{url}?{urlencode({'to': deep_link})}" if deep_link else url


def _own_links(who: Principal) -> list[tuple[Link, Offer]]:
    statement = (
        links_visible_to(who)
        .add_columns(Offer)
        .join(Offer, Link.offer_id == Offer.id)
        .order_by(Link.id.desc())
        .limit(LINKS_SHOWN)
    )
    return [(link, offer) for link, offer in db.session.execute(statement).tuples()]


def _own_link(who: Principal, link_id: int) -> Link:
    """The partner's link; another partner's id is as unknown as one that does not exist."""
    link = db.session.scalar(links_visible_to(who).where(Link.id == link_id))
    if link is None:
        abort(404)
    return link


def _render(who: Principal, form: LinkForm, status: int = 200, created: Link | None = None, deep_link: str = ""):
    page = render_template(
        "partner/links.html",
        form=form,
        links=[(link, offer, tracking_url(link, None)) for link, offer in _own_links(who)],
        created=created,
        created_url=tracking_url(created, deep_link) if created else None,
        deep_link=deep_link,
        sub_ids=SUB_IDS,
        links_shown=LINKS_SHOWN,
    )
    return page, status


@bp.get(PATH)
@require_person("partner")
def links() -> tuple[str, int]:
    who = partner_principal()
    form = LinkForm(formdata=None)
    form.fill_choices(promotable_offers(who))
    created_id, deep_link = request.args.get("link", type=int), request.args.get("to", "")
    if created_id is None:
        return _render(who, form)
    created = _own_link(who, created_id)
    if deep_link:
        try:
            checked_deep_link(deep_link, offer_allowed_hosts(created.offer))
        except DeepLinkRefused:
            abort(400)  # only a hand-edited address gets here: the builder checked it before
    return _render(who, form, created=created, deep_link=deep_link)


@bp.post(PATH)
@require_person("partner")
def build_link() -> tuple[str, int] | Response:
    # The CSRF token is checked (core.people.browser) before this runs.
    who = partner_principal()
    offers = promotable_offers(who)
    form = LinkForm()
    form.fill_choices(offers)
    if not form.validate():
        return _render(who, form, 400)
    offer = next(offer for offer in offers if str(offer.id) == form.offer_id.data)
    deep_link = (form.deep_link.data or "").strip()
    if not _deep_link_accepted(form, offer, deep_link) or (link := _create(who, form)) is None:
        return _render(who, form, 400)
    query = {"link": link.id} | ({"to": deep_link} if deep_link else {})
    return redirect(f"{PATH}?{urlencode(query)}#new-link", code=303)


def _deep_link_accepted(form: LinkForm, offer: Offer, deep_link: str) -> bool:
    """The redirect's own check, so a URL the builder gives out is one every click follows."""
    if not deep_link:
        return True
    try:
        checked_deep_link(deep_link, offer_allowed_hosts(offer))
    except DeepLinkRefused as refused:
        allowed = ", ".join(sorted(host for host in offer_allowed_hosts(offer) if host))
        # gettext, not the lazy _l: a lazy string counts as safe markup, and the reason quotes the partner's URL.
        form.deep_link.errors = [gettext("%(reason)s (allowed: %(hosts)s)", reason=str(refused), hosts=allowed)]
        return False
    return True


def _create(who: Principal, form: LinkForm) -> Link | None:
    """A link made by POST /api/v1/links's own code; its refusal lands next to the field it is about."""
    try:
        return add_link(who, form.link_in())
    except ValidationError as invalid:
        for name, message in field_errors(invalid).items():
            getattr(form, name if name in SUB_IDS else "offer_id").errors = [message]
    except ApiError as refused:
        form.offer_id.errors = [refused.message]
    return None


def register(app: Flask) -> None:
    """The blueprint and this module's entries in the portal menu (core.people.navigation.add_portal_page)."""
    app.register_blueprint(bp)
    add_portal_page(app, "partner", PATH, _l("Links"), order=20)
