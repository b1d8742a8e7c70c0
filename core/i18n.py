"""Languages of the pages: English and Russian with Flask-Babel, and the switch in every page's header.

The locale is the signed-in person's own setting, else the ``lang`` cookie the switch sets, else the
browser's Accept-Language, else English. Catalogues live in ``translations/`` and are compiled at install
(``make``); dates, numbers and money are written with Babel in the chosen locale.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, Flask, has_request_context, redirect, request
from flask_babel import Babel, get_locale
from werkzeug.wrappers import Response

from core.db import db
from core.money import format_money
from core.people.access import current_person, local_path
from core.people.forms import LanguageForm
from core.people.models import LOCALES

LANG_COOKIE = "lang"
LANG_COOKIE_SECONDS = 365 * 24 * 3600
bp = Blueprint("i18n", __name__)


def select_locale() -> str:
    if not has_request_context():  # a page rendered by a command: no reader to ask
        return LOCALES[0]
    person = current_person()
    if person is not None and person.locale in LOCALES:
        return person.locale
    chosen = request.cookies.get(LANG_COOKIE)
    if chosen in LOCALES:
        return chosen
    return request.accept_languages.best_match(LOCALES) or LOCALES[0]


def current_locale() -> str:
    return str(get_locale() or LOCALES[0])


def money(amount_minor: int, currency: str) -> str:
    """Money for the page's reader: ``{{ money(line.net_minor, batch.currency) }}``."""
    return format_money(amount_minor, currency, current_locale())


def country_name(code: str) -> str:
    """A country's name in the reader's language from its ISO 3166 code: ``{{ country_name("DE") }}``."""
    locale = get_locale()
    return str(locale.territories.get(code.upper(), code)) if locale and code else code


def page_to_return_to() -> str:
    """Where the language switch brings the reader back: this page, or after a form was posted, the page that
    showed the form (a posted-to address may answer only POST; the referrer is followed only on this site)."""
    if request.method == "GET":
        return request.full_path if request.query_string else request.path
    referrer = urlsplit(request.referrer or "")
    if referrer.netloc != request.host:
        return local_path(None)
    return local_path(referrer.path + (f"?{referrer.query}" if referrer.query else ""))


def _switch_to(code: str, next_path: str | None) -> Response:
    response = redirect(local_path(next_path, default="/"))
    if code not in LOCALES:
        return response
    person = current_person()
    if person is not None:
        person.locale = code
        db.session.commit()
    response.set_cookie(LANG_COOKIE, code, max_age=LANG_COOKIE_SECONDS, samesite="Lax", httponly=True)
    return response


@bp.post("/lang")
def switch_language() -> Response:
    form = LanguageForm()
    return _switch_to(form.lang.data if form.validate_on_submit() else "", form.next.data)


def init_app(app: Flask) -> None:
    Babel(app, locale_selector=select_locale, default_translation_directories="translations")
    app.jinja_env.globals.update(
        money=money, current_locale=current_locale, page_to_return_to=page_to_return_to, country_name=country_name
    )
    app.register_blueprint(bp)
