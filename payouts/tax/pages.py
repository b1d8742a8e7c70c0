"""The partner's tax profile and bank details (IBAN checked), and its W-8/W-9 forms.

The tax profile itself (kind, country, tax id, regime, forms on record, self-billing) is finance's to set,
as in the API, where a partner key may only read it: the partner sees it here. The partner keeps its own
bank details, checked by the same ``clean_profile`` as the API's PUT, and uploads its signed W-8/W-9.
"""

from __future__ import annotations

import logging

from flask import Blueprint, Flask, abort, redirect, render_template, request, send_file
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from pydantic import ValidationError
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.wrappers import Response
from wtforms import PasswordField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length

from core.db import db, utcnow
from core.people.access import current_person, require_person
from core.people.accounts import check_sign_in
from core.people.models import Person
from core.people.navigation import add_portal_page
from payouts.tax.engine.quote import active_regimes
from payouts.tax.form_files import MAX_FORM_BYTES, FormRefused, forms_of, own_form, save_form, stored_path
from payouts.tax.models import TaxProfile
from payouts.tax.profiles import ProfileInvalid, clean_profile, find_profile, payability, required_form
from payouts.tax.schemas import TaxProfileIn

bp = Blueprint("tax_pages", __name__)
log = logging.getLogger(__name__)
BANK_FIELDS = ("iban", "bic", "account_holder")
FORM_KINDS = {"w8ben": "W-8BEN", "w8bene": "W-8BEN-E", "w9": "W-9"}
PROFILE_KIND_NAMES = {
    "individual": _l("individual"),
    "self_employed": _l("self-employed"),
    "sole_proprietor": _l("sole proprietor"),
    "company": _l("company"),
}
UPLOAD_ENDPOINT = "tax_pages.upload_form"
# The form's other fields and the multipart framing need a little room besides the file itself.
UPLOAD_BODY_BYTES = MAX_FORM_BYTES + 64 * 1024


class BankForm(FlaskForm):
    iban = StringField(_l("IBAN"), validators=[Length(max=64)])
    bic = StringField(_l("BIC"), validators=[Length(max=64)])
    account_holder = StringField(_l("Account holder"), validators=[Length(max=200)])
    # Bank details decide where the partner's money goes: a session left open or taken over must not be
    # enough to redirect it, so the change asks for the password again (a wrong one counts towards lock-out).
    password = PasswordField(_l("Your password, to confirm the change"), validators=[DataRequired(), Length(max=1024)])


class UploadForm(FlaskForm):
    kind = SelectField(_l("Form"), choices=[SelectChoice(kind, name) for kind, name in FORM_KINDS.items()])
    file = FileField(_l("Signed form (PDF, at most 5 MB)"), validators=[FileRequired(_l("Choose the PDF file."))])


def _partner() -> tuple[Person, int]:
    """The signed-in partner person and its organisation; every query below is scoped to that organisation."""
    person = current_person()
    if person is None or person.partner_id is None:  # require_person("partner") lets only a partner in
        abort(403)
    return person, person.partner_id


def _render(bank: BankForm, upload: UploadForm, status: int = 200, **notices: object) -> tuple[str, int]:
    _, partner_id = _partner()
    profile = find_profile(partner_id)
    page = render_template(
        "partner/tax.html",
        profile=profile,
        regime=active_regimes().get(profile.regime_code) if profile else None,
        unpayable=payability(profile, utcnow().date()) if profile else None,
        required_form=required_form(profile) if profile else None,
        bank=bank,
        upload=upload,
        uploaded=forms_of(partner_id),
        form_kinds=FORM_KINDS,
        profile_kinds=PROFILE_KIND_NAMES,
        **notices,
    )
    return page, status


def _bank_form(profile: TaxProfile | None) -> BankForm:
    return BankForm(formdata=None, obj=profile) if profile else BankForm(formdata=None)


@bp.get("/portal/tax")
@require_person("partner")
def tax() -> tuple[str, int]:
    _, partner_id = _partner()
    return _render(_bank_form(find_profile(partner_id)), UploadForm(formdata=None), saved=request.args.get("saved"))


def _checked_bank_details(profile: TaxProfile, form: BankForm) -> tuple[dict[str, object], list[str]]:
    """The profile's bank fields as clean_profile stores them, or the problems: each on its field, the rest listed."""
    # What finance stored, as a PUT would send it, with the partner's bank details in place of the old ones.
    current = {name: getattr(profile, name) for name in TaxProfileIn.model_fields}
    entered = {name: (getattr(form, name).data or "").strip() or None for name in BANK_FIELDS}
    try:
        proposed = TaxProfileIn.model_validate(current | entered).model_dump()
        cleaned = clean_profile(proposed, today=utcnow().date())
    except ValidationError as error:
        return {}, [f"{'.'.join(map(str, problem['loc']))}: {problem['msg']}" for problem in error.errors()]
    except ProfileInvalid as error:
        for name in BANK_FIELDS:
            if name in error.problems:
                getattr(form, name).errors = [error.problems[name]]
        return {}, [f"{field}: {reason}" for field, reason in error.problems.items() if field not in BANK_FIELDS]
    return {name: cleaned[name] for name in BANK_FIELDS}, []


@bp.post("/portal/tax/bank")
@require_person("partner")
def save_bank_details() -> Response | tuple[str, int]:
    person, partner_id = _partner()
    profile = find_profile(partner_id)
    form = BankForm()
    if profile is None:
        return _render(form, UploadForm(formdata=None), 409, no_profile=True)
    if not form.validate_on_submit():
        return _render(form, UploadForm(formdata=None), 400)
    if check_sign_in(person.email, form.password.data or "") is None:
        db.session.commit()  # the failure count and any lock
        form.password.errors = [_l("The password is wrong (or the account is locked); nothing was changed.")]
        return _render(form, UploadForm(formdata=None), 403)
    values, other_problems = _checked_bank_details(profile, form)
    if other_problems or not values:
        db.session.rollback()
        return _render(form, UploadForm(formdata=None), 422, other_problems=other_problems)
    for name, value in values.items():
        setattr(profile, name, value)
    # No API key made this change; the log names the person, since bank details decide where money goes.
    profile.updated_at, profile.updated_by_key_id = utcnow(), None
    db.session.commit()
    log.info("partner %s's bank details changed by person %s (%s)", partner_id, person.id, person.email)
    return redirect("/portal/tax?saved=bank", 303)


@bp.url_value_preprocessor
def allow_form_sized_bodies(endpoint: str | None, values: dict | None) -> None:
    # Runs before the app's before_request hooks, so before the CSRF check first reads the body: only the
    # upload may be larger than the site's body limit (MAX_BODY_BYTES), and only by the size of one form.
    if endpoint == UPLOAD_ENDPOINT:
        request.max_content_length = UPLOAD_BODY_BYTES


@bp.errorhandler(RequestEntityTooLarge)
def upload_too_large(error: RequestEntityTooLarge) -> RequestEntityTooLarge | tuple[str, int]:
    # Raised while the CSRF check reads the body, before require_person: only a partner's upload gets the page.
    person = current_person()
    if request.endpoint != UPLOAD_ENDPOINT or person is None or person.partner_id is None:
        return error
    upload = UploadForm(formdata=None)
    upload.file.errors = [_l("The file is larger than 5 MB; nothing was stored.")]
    return _render(_bank_form(find_profile(person.partner_id)), upload, 413)


@bp.post("/portal/tax/forms")
@require_person("partner")
def upload_form() -> Response | tuple[str, int]:
    person, partner_id = _partner()
    upload = UploadForm()
    bank = _bank_form(find_profile(partner_id))
    if not upload.validate_on_submit():
        return _render(bank, upload, 400)
    chosen = upload.file.data
    try:
        save_form(partner_id, upload.kind.data, chosen.filename or "", chosen.stream, person.id)
    except FormRefused as error:
        upload.file.errors = [_l("Not stored: %(reason)s.", reason=str(error))]
        return _render(bank, upload, 422)
    return redirect("/portal/tax?saved=form#forms", 303)


@bp.get("/portal/tax/forms/<int:form_id>")
@require_person("partner")
def download_form(form_id: int) -> Response:
    _, partner_id = _partner()
    form = own_form(partner_id, form_id)
    if form is None:
        abort(404)
    path = stored_path(form)
    if not path.is_file():
        abort(404)
    return send_file(path, mimetype="application/pdf", as_attachment=True, download_name=form.file_name)


def register(app: Flask) -> None:
    """The blueprint and this module's entries in the portal menu (core.people.navigation.add_portal_page)."""
    app.register_blueprint(bp)
    add_portal_page(app, "partner", "/portal/tax", _l("Tax and bank"), order=70)
