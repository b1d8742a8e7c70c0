"""The portal's menu: each feature names its pages for the roles that use them, and every page shows its role's menu.

A feature calls ``add_portal_page(app, role, path, label, order)`` from its ``init_app``; ``base.html`` lists
the signed-in person's entries, so no shared template changes when a feature adds a page.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask, current_app, request
from flask_babel import LazyString

from core.people.sessions import current_person

EXTENSION = "handoff.portal_pages"


@dataclass(frozen=True, order=True)
class PortalPage:
    order: int
    path: str
    label: LazyString | str

    def is_current(self, path: str) -> bool:
        return path == self.path or path.startswith(self.path.rstrip("/") + "/")


def add_portal_page(app: Flask, role: str, path: str, label: LazyString | str, order: int = 50) -> None:
    pages: dict[str, list[PortalPage]] = app.extensions.setdefault(EXTENSION, {})
    pages.setdefault(role, []).append(PortalPage(order, path, label))
    pages[role].sort(key=lambda page: (page.order, page.path))


def portal_pages(role: str) -> list[PortalPage]:
    return list(current_app.extensions.get(EXTENSION, {}).get(role, []))


def menu() -> list[tuple[PortalPage, bool]]:
    """The signed-in person's menu, each entry with whether it is the page being shown (for aria-current)."""
    person = current_person()
    if person is None:
        return []
    pages = portal_pages(person.role)
    # The longest matching path is the current one: /portal/batches/7 is under Batches, not under /portal.
    matching = [page for page in pages if page.is_current(request.path)]
    current = max(matching, key=lambda page: len(page.path), default=None)
    return [(page, page is current) for page in pages]


def init_app(app: Flask) -> None:
    app.jinja_env.globals["portal_menu"] = menu
