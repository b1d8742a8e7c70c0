"""API for commission plans, commissions, balances and manual adjustments."""

from __future__ import annotations

from flask import Blueprint
from spectree import Response
from sqlalchemy import select

from core.api.auth import actor_name, principal, require_roles
from core.api.errors import ApiError, commit_or_conflict
from core.api.openapi import ERRORS, api_spec
from core.db import db, utcnow
from core.money import InvalidAmount, major_text, to_minor
from payouts.commissions.models import CommissionPlan
from payouts.commissions.rules import PlanError, parse_plan
from payouts.ledger.entries import LedgerError, adjust
from payouts.ledger.queries import Balance, CommissionRow, balances, commission_rows
from payouts.ledger.schemas import (
    AdjustmentIn,
    AdjustmentOut,
    BalanceList,
    BalanceOut,
    BalanceQuery,
    CommissionList,
    CommissionOut,
    CommissionQuery,
    PlanIn,
    PlanOut,
)
from tracker.program.models import Offer
from tracker.program.scopes import offers_visible_to, partner_scope

bp = Blueprint("payouts_api_ledger", __name__, url_prefix="/api/v1")


def _own_offer(offer_id: int) -> Offer:
    offer = db.session.scalar(offers_visible_to(principal()).where(Offer.id == offer_id))
    if offer is None:
        raise ApiError(404, f"offer {offer_id} not found among this key's offers")
    return offer


def _plan_out(row: CommissionPlan) -> PlanOut:
    return PlanOut(offer_id=row.offer_id, plan=row.plan, updated_at=row.updated_at, updated_by=row.updated_by)


@bp.put("/offers/<int:offer_id>/commission-plan")
@require_roles("admin", "advertiser")
@api_spec.validate(json=PlanIn, resp=Response(HTTP_200=PlanOut, **ERRORS), tags=["commissions"])
def put_commission_plan(offer_id: int, json: PlanIn):
    """Set the offer's plan; commissions already accrued keep the rule they were priced with."""
    offer = _own_offer(offer_id)
    try:
        parse_plan(json.plan)
    except PlanError as error:
        raise ApiError(422, str(error)) from None
    row = db.session.scalar(select(CommissionPlan).where(CommissionPlan.offer_id == offer.id))
    if row is None:
        row = CommissionPlan(offer_id=offer.id)
        db.session.add(row)
    row.plan, row.updated_at, row.updated_by = json.plan, utcnow(), actor_name(principal())
    # Two first PUTs for one offer race to insert; the unique offer_id keeps one, the other hears why.
    commit_or_conflict(f"offer {offer.id}'s plan was set by another request at the same moment; retry")
    return _plan_out(row)


@bp.get("/offers/<int:offer_id>/commission-plan")
@require_roles("admin", "finance", "advertiser")
@api_spec.validate(resp=Response(HTTP_200=PlanOut, **ERRORS), tags=["commissions"])
def get_commission_plan(offer_id: int):
    offer = _own_offer(offer_id)
    row = db.session.scalar(select(CommissionPlan).where(CommissionPlan.offer_id == offer.id))
    if row is None:
        raise ApiError(404, f"offer {offer.id} has no commission plan; nothing accrues on it")
    return _plan_out(row)


def _partner_scope(requested: int | None) -> int | None:
    return partner_scope(principal(), requested, "a partner key sees only its own commissions and balance")


def _commission_out(row: CommissionRow) -> CommissionOut:
    closed = row.status in ("reversed", "clawed_back")
    return CommissionOut(
        id=row.id,
        conversion_id=row.conversion_id,
        offer_id=row.offer_id,
        partner_id=row.partner_id,
        role=row.role,
        event=row.event,
        amount=major_text(row.amount_minor, row.currency),
        currency=row.currency,
        status=row.status,
        conversion_status=row.conversion_status,
        approves_on=None if closed else row.approve_after.date(),
        approve_after=row.approve_after,
        accrued_at=row.accrued_at,
        rule=row.rule,
    )


@bp.get("/commissions")
@require_roles("admin", "finance", "partner")
@api_spec.validate(query=CommissionQuery, resp=Response(HTTP_200=CommissionList, **ERRORS), tags=["commissions"])
def list_commissions(query: CommissionQuery):
    partner_id = _partner_scope(query.partner_id)
    rows = commission_rows(
        partner_id, status=query.status, offer_id=query.offer_id, limit=query.limit, offset=query.offset
    )
    return CommissionList(items=[_commission_out(row) for row in rows])


def _balance_out(balance: Balance) -> BalanceOut:
    currency = balance.currency
    return BalanceOut(
        partner_id=balance.partner_id,
        currency=currency,
        pending=major_text(balance.pending_minor, currency),
        approved=major_text(balance.approved_minor, currency),
        paid=major_text(balance.paid_minor, currency),
        clawback=major_text(balance.clawback_minor, currency),
        payable=major_text(balance.payable_minor, currency),
    )


@bp.get("/balances")
@require_roles("admin", "finance", "partner")
@api_spec.validate(query=BalanceQuery, resp=Response(HTTP_200=BalanceList, **ERRORS), tags=["commissions"])
def list_balances(query: BalanceQuery):
    partner_id = _partner_scope(query.partner_id)
    return BalanceList(items=[_balance_out(balance) for balance in balances(partner_id)])


@bp.post("/adjustments")
@require_roles("admin", "finance")
@api_spec.validate(json=AdjustmentIn, resp=Response(HTTP_201=AdjustmentOut, **ERRORS), tags=["commissions"])
def post_adjustment(json: AdjustmentIn):
    """Credit (or, negative, charge) a partner by hand; payable at once, with the reason and who made it."""
    try:
        amount_minor = to_minor(json.amount, json.currency, signed=True)
        entry = adjust(json.partner_id, amount_minor, json.currency, json.reason, actor_name(principal()))
    except (InvalidAmount, LedgerError) as error:
        raise ApiError(422, str(error)) from None
    return AdjustmentOut(
        id=entry.id,
        partner_id=entry.partner_id,
        amount=major_text(entry.amount_minor, entry.currency),
        currency=entry.currency,
        reason=entry.reason,
        actor=entry.actor,
        created_at=entry.created_at,
    ), 201
