"""API for tax: partners' tax profiles, the regimes in the presets, and quotes for finance."""

from __future__ import annotations

import re

from flask import Blueprint
from spectree import Response

from core.api.auth import actor_name, principal, require_roles
from core.api.errors import ApiError, commit_or_conflict
from core.api.openapi import ERRORS, api_spec
from core.db import db, utcnow
from payouts.tax.engine.quote import PresetError, active_regimes
from payouts.tax.models import TaxProfile
from payouts.tax.profiles import ProfileInvalid, clean_profile, find_profile, payability
from payouts.tax.quotes import QuoteRefused, QuoteRequest, regime_summary, run_quote
from payouts.tax.regime_store import drop_edit, save_edit
from payouts.tax.schemas import QuoteIn, QuoteOut, RegimeEditIn, RegimeList, RegimeOut, TaxProfileIn, TaxProfileOut
from tracker.program.models import Partner
from tracker.program.scopes import may_read_private_records

bp = Blueprint("payouts_api_tax", __name__, url_prefix="/api/v1")
# A regime code names a stored edit (a VARCHAR(64) key) and appears in URLs: PostgreSQL refuses NUL in text
# and a longer key, which made a 500 of a code like "a%00b" before this check.
REGIME_CODE = re.compile(r"[A-Za-z0-9_.-]{1,64}")
REGIME_CODE_TEXT = "1 to 64 letters, digits, '_', '.' or '-'"


def profile_out(profile: TaxProfile) -> TaxProfileOut:
    out = TaxProfileOut.model_validate(profile)
    out.unpayable_reason = payability(profile, utcnow().date())
    return out


@bp.put("/partners/<int:partner_id>/tax-profile")
@require_roles("admin", "finance")
@api_spec.validate(
    json=TaxProfileIn, resp=Response(HTTP_200=TaxProfileOut, HTTP_201=TaxProfileOut, **ERRORS), tags=["tax"]
)
def put_tax_profile(partner_id: int, json: TaxProfileIn):
    """Create or replace the partner's tax profile; every field is checked before anything is written."""
    if db.session.get(Partner, partner_id) is None:
        raise ApiError(404, f"partner {partner_id} not found")
    try:
        values = clean_profile(json.model_dump(), today=utcnow().date())
    except ProfileInvalid as error:
        details = [{"field": field, "reason": reason} for field, reason in error.problems.items()]
        raise ApiError(422, f"invalid tax profile: {error}", details) from None
    profile = find_profile(partner_id)
    created = profile is None
    if profile is None:
        profile = TaxProfile(partner_id=partner_id)
        db.session.add(profile)
    for name, value in values.items():
        setattr(profile, name, value)
    profile.updated_at, profile.updated_by_key_id = utcnow(), principal().key_id
    # Two first PUTs for one partner race to insert; the unique partner_id lets one win, and the
    # other is told to send again (it will then replace the winner's profile, as a PUT should).
    commit_or_conflict(f"partner {partner_id}'s tax profile was created meanwhile; send the PUT again")
    return profile_out(profile), 201 if created else 200


@bp.get("/partners/<int:partner_id>/tax-profile")
@require_roles("admin", "finance", "partner")
@api_spec.validate(resp=Response(HTTP_200=TaxProfileOut, **ERRORS), tags=["tax"])
def get_tax_profile(partner_id: int):
    """The partner's tax profile; a partner key reads only its own."""
    # Another partner (even a distributor asking for its reseller) gets the same 404 as for a partner
    # without a profile, so the answer does not tell whether one exists.
    profile = find_profile(partner_id) if may_read_private_records(principal(), partner_id) else None
    if profile is None:
        raise ApiError(404, f"no tax profile for partner {partner_id}")
    return profile_out(profile)


@bp.get("/tax/regimes")
@require_roles("admin", "finance")
@api_spec.validate(resp=Response(HTTP_200=RegimeList, **ERRORS), tags=["tax"])
def list_regimes():
    """Every regime in the presets with its notes, the profile inputs it reads and its dated versions."""
    regimes = active_regimes().values()
    return RegimeList(items=[RegimeOut.model_validate(regime_summary(regime)) for regime in regimes])


@bp.put("/tax/regimes/<code>")
@require_roles("admin", "finance")
@api_spec.validate(
    json=RegimeEditIn,
    resp=Response(HTTP_200=RegimeOut, **ERRORS),
    tags=["tax"],
    path_parameter_descriptions={"code": REGIME_CODE_TEXT},
)
def edit_regime(code: str, json: RegimeEditIn):
    """Replace (or add) one regime's definition, in the presets' own format, for every node at once."""
    if not REGIME_CODE.fullmatch(code):
        raise ApiError(422, f"a regime code is {REGIME_CODE_TEXT}", [{"field": "code", "reason": REGIME_CODE_TEXT}])
    try:
        regime = save_edit(code, json.model_dump(), actor_name(principal()))
    except PresetError as error:
        raise ApiError(422, str(error)) from None
    return RegimeOut.model_validate(regime_summary(regime))


@bp.delete("/tax/regimes/<code>/edit")
@require_roles("admin", "finance")
@api_spec.validate(
    resp=Response(HTTP_204=None, **ERRORS), tags=["tax"], path_parameter_descriptions={"code": REGIME_CODE_TEXT}
)
def drop_regime_edit(code: str):
    """Put the shipped preset back for this regime."""
    if not REGIME_CODE.fullmatch(code) or not drop_edit(code):
        raise ApiError(404, f"regime {code!r} has no edit to drop")
    return "", 204


@bp.post("/tax/quotes")
@require_roles("admin", "finance")
@api_spec.validate(json=QuoteIn, resp=Response(HTTP_200=QuoteOut, **ERRORS), tags=["tax"])
def create_quote(json: QuoteIn):
    """What paying this would cost: gross, withholding, contributions, VAT, net and company cost."""
    request = QuoteRequest(
        amount=json.amount,
        payout_date=json.payout_date,
        regime=json.regime,
        partner_id=json.partner_id,
        basis=json.basis,
        paid_this_year=json.paid_this_year,
        inputs=json.inputs,
    )
    try:
        answer = run_quote(request)
    except QuoteRefused as error:
        raise ApiError(422, str(error), [{"field": error.field, "reason": error.reason}]) from None
    return QuoteOut.model_validate(answer)
