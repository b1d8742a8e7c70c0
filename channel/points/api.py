"""Points over the API: balance, entries, the fund; adjustments by admins, transfers to a partner's people."""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint
from spectree import Response

from channel.points.balances import balance, entries
from channel.points.funds import PointsRefused, active_fund, fund_report
from channel.points.ledger import adjust
from channel.points.models import PointsEntry, PointsFund
from channel.points.schemas import (
    BalanceOut,
    BalanceQuery,
    EntryList,
    EntryOut,
    EntryQuery,
    ExpiringOut,
    FundOut,
    PointsAdjustmentIn,
    TransferIn,
)
from channel.points.spending import transfer
from core.api.auth import actor_name, principal, require_roles
from core.api.errors import ApiError
from core.api.openapi import ERRORS, api_spec
from core.db import db, utcnow
from core.money import major_text
from tracker.program.models import Partner
from tracker.program.scopes import partner_scope

bp = Blueprint("points_api", __name__, url_prefix="/api/v1")
OWN_ONLY = "a partner key sees only its own points"


def _partner(requested: int | None) -> int | None:
    return partner_scope(principal(), requested, OWN_ONLY)


def _expiring(partner_balance, fund: PointsFund | None) -> ExpiringOut | None:
    expires_at = partner_balance.expiring_at
    if expires_at is None:
        return None
    notice_days = fund.notice_days if fund is not None else 30
    return ExpiringOut(
        points=partner_balance.expiring_next,
        expires_at=expires_at,
        expires_on=expires_at.date(),
        notice=expires_at - utcnow() <= timedelta(days=notice_days),
    )


@bp.get("/points/balance")
@require_roles("admin", "finance", "partner")
@api_spec.validate(query=BalanceQuery, resp=Response(HTTP_200=BalanceOut, **ERRORS), tags=["points"])
def get_balance(query: BalanceQuery):
    """Available, pending, and the points expiring next with their date."""
    partner_id = _partner(query.partner_id)
    if partner_id is None:
        raise ApiError(422, "partner_id is required with an admin or finance key")
    if db.session.get(Partner, partner_id) is None:
        raise ApiError(404, f"partner {partner_id} not found")
    found = balance(partner_id, query.person_id)
    return BalanceOut(
        partner_id=partner_id,
        person_id=query.person_id,
        available=found.available,
        pending=found.pending,
        total=found.total,
        held_by_people=found.held_by_people,
        expiring_next=_expiring(found, active_fund()),
    )


def _entry_out(entry: PointsEntry) -> EntryOut:
    return EntryOut.model_validate(entry, from_attributes=True)


@bp.get("/points/entries")
@require_roles("admin", "finance", "partner")
@api_spec.validate(query=EntryQuery, resp=Response(HTTP_200=EntryList, **ERRORS), tags=["points"])
def list_entries(query: EntryQuery):
    """The ledger's rows, newest first."""
    rows = entries(_partner(query.partner_id), person_id=query.person_id, limit=query.limit, offset=query.offset)
    return EntryList(items=[_entry_out(row) for row in rows])


@bp.get("/points/fund")
@require_roles("admin", "finance")
@api_spec.validate(resp=Response(HTTP_200=FundOut, **ERRORS), tags=["points"])
def get_fund():
    """The active fund: budget, what it has given, and the liability in money at the point value."""
    fund = active_fund()
    if fund is None:
        raise ApiError(404, "no active bonus fund")
    report = fund_report(fund)
    return FundOut(
        name=fund.name,
        currency=fund.currency,
        point_value=major_text(fund.point_value_minor, fund.currency),
        budget_points=fund.budget_points,
        drawn_points=report.drawn,
        left_points=report.left,
        pending_points=report.pending,
        spent_points=report.spent,
        expired_points=report.expired,
        liability_points=report.liability,
        liability=major_text(report.liability_minor, fund.currency),
        return_window_days=fund.return_window_days,
        expiry_months=fund.expiry_months,
        notice_days=fund.notice_days,
    )


@bp.post("/points/adjustments")
@require_roles("admin")
@api_spec.validate(json=PointsAdjustmentIn, resp=Response(HTTP_201=EntryOut, **ERRORS), tags=["points"])
def post_adjustment(json: PointsAdjustmentIn):
    """Add points by hand (drawn from the fund) or take them away, with the reason and the key that did it."""
    try:
        entry = adjust(json.partner_id, json.points, json.reason, actor_name(principal()))
    except PointsRefused as refusal:
        db.session.rollback()
        raise ApiError(422, str(refusal)) from None
    db.session.commit()
    return _entry_out(entry), 201


@bp.post("/points/transfers")
@require_roles("partner")
@api_spec.validate(json=TransferIn, resp=Response(HTTP_201=EntryList, **ERRORS), tags=["points"])
def post_transfer(json: TransferIn):
    """Hand points of the company's available balance to one of its people (sales reps)."""
    partner_id = principal().partner_id
    if partner_id is None:  # the api_keys role check gives every partner key its partner
        raise ApiError(403, OWN_ONLY)
    try:
        received = transfer(partner_id, json.person_id, json.points, actor_name(principal()), json.reason)
    except PointsRefused as refusal:
        db.session.rollback()
        raise ApiError(422, str(refusal)) from None
    db.session.commit()
    return EntryList(items=[_entry_out(entry) for entry in received]), 201
