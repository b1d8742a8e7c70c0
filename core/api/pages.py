"""The admins' page for API keys: list them, create one (its plaintext shown once), revoke one."""

from __future__ import annotations

from flask import Blueprint, Flask, abort, redirect, render_template, request
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import select
from werkzeug.wrappers import Response
from wtforms import SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length

from core.api.apikeys import ROLES, ApiKey, all_keys, issue_key, key_owner, revoke_key
from core.db import db
from core.people.access import require_person
from core.people.navigation import add_portal_page
from core.people.views import ROLE_NAMES

bp = Blueprint("api_keys_admin", __name__)
NO_OWNER = ""


# flask_wtf ships no type hints, so mypy sees FlaskForm as Any.
class KeyForm(FlaskForm):  # type: ignore[misc]
    role = SelectField(_l("Role"), choices=[SelectChoice(role, ROLE_NAMES[role]) for role in ROLES])
    advertiser_id = SelectField(_l("Advertiser (for an advertiser key)"), validate_choice=True)
    partner_id = SelectField(_l("Partner (for a partner key)"), validate_choice=True)
    label = StringField(_l("Label"), validators=[Length(max=200)])

    def fill_choices(self) -> None:
        for field, kind in ((self.advertiser_id, "advertisers"), (self.partner_id, "partners")):
            table = db.metadata.tables[kind]
            rows = db.session.execute(select(table.c.id, table.c.name).order_by(table.c.name, table.c.id))
            field.choices = [SelectChoice(NO_OWNER, "—")] + [
                SelectChoice(str(row.id), f"{row.name} (#{row.id})") for row in rows
            ]

    def scope(self) -> dict[str, int | None]:
        """The chosen owners; issue_key refuses one that does not fit the role rather than ignoring it."""
        chosen = {"advertiser_id": self.advertiser_id.data, "partner_id": self.partner_id.data}
        return {name: int(value) if value else None for name, value in chosen.items()}


def _key_rows() -> list[tuple[ApiKey, object]]:
    return [(key, key_owner(key)) for key in all_keys()]


def _render_list(form: KeyForm, status: int = 200, revoked: ApiKey | None = None) -> tuple[str, int]:
    return render_template("admin/keys.html", form=form, rows=_key_rows(), revoked=revoked), status


@bp.get("/admin/keys")
@require_person("admin")
def keys() -> tuple[str, int]:
    form = KeyForm()
    form.fill_choices()
    revoked_id = request.args.get("revoked", type=int)
    return _render_list(form, revoked=db.session.get(ApiKey, revoked_id) if revoked_id else None)


@bp.post("/admin/keys")
@require_person("admin")
def create_key() -> tuple[str, int]:
    form = KeyForm()
    form.fill_choices()
    if not form.validate_on_submit():
        return _render_list(form, 400)
    try:
        key, plaintext = issue_key(form.role.data, label=(form.label.data or "").strip(), **form.scope())
    except ValueError:
        form.role.errors = [
            _l("An advertiser key needs an advertiser, a partner key a partner, and no other key either.")
        ]
        return _render_list(form, 400)
    db.session.commit()
    # Shown this once: only the hash is stored. A signed-in person's pages are sent with no-store
    # (core.people.browser), so the browser's back button does not show it again either.
    page = render_template("admin/key_created.html", key=key, owner=key_owner(key), plaintext=plaintext)
    return page, 200


@bp.post("/admin/keys/<int:key_id>/revoke")
@require_person("admin")
def revoke(key_id: int) -> Response:
    # The CSRF token is checked (core.people.browser) before this runs.
    key = db.session.get(ApiKey, key_id)
    if key is None:
        abort(404)
    revoke_key(key)
    db.session.commit()  # bumps the keys' cache version: every worker refuses the key from its next request
    return redirect(f"/admin/keys?revoked={key.id}")


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    add_portal_page(app, "admin", "/admin/keys", _l("API keys"), order=80)
