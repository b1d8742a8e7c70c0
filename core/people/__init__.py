"""People who sign in to the portal: accounts, sessions, password resets, and what every page needs from them.

Feature pages protect themselves with ``core.people.access.require_person(*roles)`` and read the signed-in
person with ``core.people.access.current_person()``.
"""

from __future__ import annotations

from flask import Flask
from flask_babel import lazy_gettext as _l

from core.settings import Settings


def init_app(app: Flask, settings: Settings) -> None:
    from core.people import admin_pages, browser, navigation, views
    from core.people.access import HOME
    from core.people.cli import users_group

    browser.init_app(app, settings)
    app.register_blueprint(views.bp)
    navigation.init_app(app)
    admin_pages.register(app)
    for role in views.ROLE_NAMES:
        navigation.add_portal_page(app, role, HOME, _l("Home"), order=0)
    app.cli.add_command(users_group)
