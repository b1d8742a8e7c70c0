"""Writing the commission ledger: accrue on a conversion, approve after the hold, reverse, claw back, adjust.

Every function appends rows (``payouts.ledger.models``) and never changes one. ``accrue`` and
``on_status_change`` run inside the conversion's own transaction, so a conversion and its commissions
commit or roll back together; ``approve_due`` and ``adjust`` are whole operations and commit themselves.
Reading balances and commission lists is in ``payouts.ledger.queries``.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import ColumnElement, Row, Table, and_, case, exists, false, insert, literal, or_, select
from sqlalchemy.orm import aliased

from core.config_cache import VersionedCache
from core.db import UtcDateTime, db, dialect_insert, utcnow
from core.money import InvalidAmount, minor_digits
from payouts.commissions.calculation import CommissionLine, CommissionRefused, commission_for
from payouts.commissions.models import CommissionPlan
from payouts.commissions.rules import PlanError, PlanRules, parse_plan
from payouts.ledger.locks import lock_partner, lock_partners
from payouts.ledger.models import SETTLEMENT_COLUMNS, LedgerEntry
from payouts.ledger.payments import is_paid
from payouts.ledger.volume import volume_before
from tracker.attribution.models import Conversion
from tracker.program.models import Offer, Partner
from tracker.program.offer_cache import offer_for_conversion

log = logging.getLogger(__name__)
SYSTEM_ACTOR = "ledger"


_INSERT_ENTRY = insert(cast(Table, LedgerEntry.__table__))


class LedgerError(ValueError):
    """A ledger write that would be wrong (an adjustment without a reason, of 0); the message says why."""


# Parsed plans (or None) by offer: every conversion asks, a plan changes rarely, and saving one bumps the
# cache's version (core.config_cache; payouts.commissions.models watches CommissionPlan).
_plans: VersionedCache[PlanRules | None] = VersionedCache("commission_plans")


def plan_for(offer_id: int) -> PlanRules | None:
    return _plans.get(offer_id, lambda: _load_plan(offer_id))


def _load_plan(offer_id: int) -> PlanRules | None:
    row = db.session.scalar(select(CommissionPlan).where(CommissionPlan.offer_id == offer_id))
    return None if row is None else parse_plan(row.plan)


def accrue(conversion: Conversion) -> int:
    """Append 'accrued' rows for the conversion's partner and its parent; returns how many (0 without a plan)."""
    if conversion.partner_id is None:
        return 0
    try:
        plan = plan_for(conversion.offer_id)
    except PlanError:
        # Only a plan stored before a stricter parse_plan gets here (the API checks every plan it
        # stores). The conversion must still be recorded; the error names the offer to fix.
        log.exception(
            "offer %s: stored commission plan no longer parses; conversion %s not priced",
            conversion.offer_id,
            conversion.id,
        )
        return 0
    if plan is None or conversion.event not in plan.events:
        return 0
    # Caps are read-then-write: the partner's lock (payouts.ledger.locks) makes two conversions of one
    # partner at once take turns, so they cannot both take the last lead of a cap.
    partner = lock_partner(conversion.partner_id)
    offer = offer_for_conversion(conversion.offer_id)  # a per-worker copy; only its hold is read
    if partner is None or offer is None:  # the conversion's foreign keys keep both
        raise LookupError(f"conversion {conversion.id}: partner or offer not found")
    approve_after = conversion.occurred_at + timedelta(days=offer.hold_days)
    rows = [_accrual(conversion, line, plan.currency, approve_after) for line in _lines(plan, conversion, partner)]
    # One Core statement: every priced conversion comes here, and the ORM's unit of work for new rows costs
    # more CPU than the insert. Nothing in the session holds these rows; readers query them.
    if rows:
        db.session.execute(_INSERT_ENTRY, rows)
    return len(rows)


def _lines(plan: PlanRules, conversion: Conversion, partner: Row[Any]) -> list[CommissionLine]:
    """``partner``: the row ``lock_partner`` read (id, tier, parent_id)."""
    try:
        result = commission_for(
            plan,
            event=conversion.event,
            amount_minor=conversion.amount_minor,
            currency=conversion.currency,
            partner_id=partner.id,
            partner_tier=partner.tier,
            parent_id=partner.parent_id,
            period_volume=volume_before(plan, plan.events[conversion.event], conversion),
        )
    except CommissionRefused as refusal:
        return _refused(conversion, partner.id, str(refusal))
    # A parent line of 0 (a lead has no sale to take a share of) is noise; a capped partner line of 0
    # stays, so the partner sees that the cap, not a lost conversion, is why it earned nothing.
    if result.parent is not None and result.parent.amount_minor > 0:
        return [result.partner, result.parent]
    return [result.partner]


def _refused(conversion: Conversion, partner_id: int, refusal: str) -> list[CommissionLine]:
    # The conversion stays recorded; a visible 0 line tells finance why nothing accrued, where a log
    # line alone would be a commission silently lost.
    log.warning("conversion %s not priced: %s", conversion.id, refusal)
    return [CommissionLine(partner_id, 0, f"not priced: {refusal}")]


def _accrual(conversion: Conversion, line: CommissionLine, currency: str, approve_after: datetime) -> dict[str, Any]:
    role = "partner" if line.partner_id == conversion.partner_id else "parent"
    reason = line.rule if line.cap_reason is None else f"{line.rule}; {line.cap_reason}"
    return {
        "partner_id": line.partner_id,
        "offer_id": conversion.offer_id,
        "conversion_id": conversion.id,
        "kind": "accrued",
        "role": role,
        "amount_minor": line.amount_minor,
        "currency": currency,
        "approve_after": approve_after,
        "actor": SYSTEM_ACTOR,
        "reason": reason,
        "created_at": utcnow(),
    }


def _payable_conversions() -> ColumnElement[bool]:
    """Approved by the advertiser, or pending from a source its offer trusts (``Offer.trusted_sources``).

    "review" waits for a person; "rejected" and "reversed" are turned down; "pending" from an untrusted
    source (an unsigned pixel: any browser can fire it with any amount) waits for the advertiser's approval.
    """
    trusting: dict[str, list[int]] = {}
    # The trusted sources live in each offer's JSON list; grouping offers by source here keeps the
    # approval one INSERT ... SELECT on both databases. Programs have tens of offers, not millions.
    for offer in db.session.scalars(select(Offer)):
        for source in offer.trusted_sources():
            trusting.setdefault(source, []).append(offer.id)
    trusted = [and_(Conversion.source == s, Conversion.offer_id.in_(ids)) for s, ids in sorted(trusting.items())]
    return or_(Conversion.status == "approved", and_(Conversion.status == "pending", or_(false(), *trusted)))


def approve_due(now: datetime | None = None) -> int:
    """Approve every accrual whose hold has passed and whose conversion is approved or trusted and pending.

    One INSERT ... SELECT ... ON CONFLICT DO NOTHING: when the worker and ``payouts approve-due`` (or two
    workers) run at once, both select the same accruals, and the unique (settles_id, kind) key lets one
    approval per accrual in while the other insert skips it, so neither fails nor duplicates.
    """
    now = now or utcnow()
    accrual, later = LedgerEntry, aliased(LedgerEntry)
    settled = exists().where(later.settles_id == accrual.id, later.kind.in_(("approved", "reversed", "clawed_back")))
    due = (
        select(
            accrual.partner_id,
            accrual.offer_id,
            accrual.conversion_id,
            literal("approved"),
            accrual.id,
            accrual.amount_minor,
            accrual.currency,
            literal(SYSTEM_ACTOR),
            case(
                (Conversion.status == "approved", literal("hold period passed; conversion approved")),
                else_=literal("hold period passed; trusted source ") + Conversion.source,
            ),
            literal(now, UtcDateTime()),
        )
        .join(Conversion, Conversion.id == accrual.conversion_id)
        .where(accrual.kind == "accrued", accrual.approve_after <= now, _payable_conversions(), ~settled)
    )
    statement = dialect_insert(LedgerEntry).from_select(SETTLEMENT_COLUMNS, due)
    # Counted from RETURNING: drivers disagree on rowcount for INSERT ... SELECT (psycopg reports 0).
    approved = len(db.session.execute(statement.on_conflict_do_nothing().returning(LedgerEntry.id)).all())
    db.session.commit()
    return approved


def on_status_change(conversion: Conversion, new_status: str) -> list[LedgerEntry]:
    """Cancel the conversion's commissions when it is rejected or reversed; claw back what was paid.

    An advertiser's explicit approve appends nothing: the hold period exists for refunds and chargebacks
    that come after the advertiser's decision, so approval by the ledger still waits for ``approve_after``.
    """
    if new_status not in ("rejected", "reversed"):
        return []
    accruals = (LedgerEntry.conversion_id == conversion.id, LedgerEntry.kind == "accrued")
    # Locking protocol (payouts.ledger.locks): the partner rows of every accrual, ascending, before the
    # steps are read; ``mark_paid`` takes the same locks before it writes 'paid'. Whichever commits second
    # sees the other: a reversal after the payment finds its line paid and claws back, a payment after
    # the reversal writes the clawback itself. Without it both read "not yet" and left a commission
    # reversed and paid with nothing owed back.
    lock_partners(select(LedgerEntry.partner_id).where(*accruals))
    entries = []
    rows = db.session.execute(select(LedgerEntry, is_paid(LedgerEntry)).where(*accruals).order_by(LedgerEntry.id))
    for accrual, paid in rows.all():
        steps = set(db.session.scalars(select(LedgerEntry.kind).where(LedgerEntry.settles_id == accrual.id)))
        if steps & {"reversed", "clawed_back"}:
            continue
        # Paid money cannot be cancelled, only owed back: a negative line the next payout batch nets.
        kind = "clawed_back" if paid else "reversed"
        entries.append(_settlement(accrual, kind, -accrual.amount_minor, f"conversion {new_status}"))
    db.session.add_all(entries)
    db.session.flush()
    return entries


def _settlement(item: LedgerEntry, kind: str, amount_minor: int, reason: str) -> LedgerEntry:
    return LedgerEntry(
        partner_id=item.partner_id,
        offer_id=item.offer_id,
        conversion_id=item.conversion_id,
        kind=kind,
        settles_id=item.id,
        amount_minor=amount_minor,
        currency=item.currency,
        actor=SYSTEM_ACTOR,
        reason=reason,
    )


def adjust(partner_id: int, amount_minor: int, currency: str, reason: str, actor: str) -> LedgerEntry:
    """Append a manual line, payable at once, keeping who made it and why."""
    if not reason or not reason.strip():
        raise LedgerError("an adjustment needs a reason")
    if not actor or not actor.strip():
        raise LedgerError("an adjustment needs the name of who made it")
    if isinstance(amount_minor, bool) or not isinstance(amount_minor, int) or amount_minor == 0:
        raise LedgerError(f"an adjustment must be a non-zero whole number of minor units, not {amount_minor!r}")
    try:
        minor_digits(currency)
    except InvalidAmount as error:
        raise LedgerError(str(error)) from None
    if db.session.get(Partner, partner_id) is None:
        raise LedgerError(f"partner {partner_id} does not exist")
    entry = LedgerEntry(
        partner_id=partner_id,
        kind="adjusted",
        amount_minor=amount_minor,
        currency=currency,
        actor=actor.strip(),
        reason=reason.strip(),
    )
    db.session.add(entry)
    db.session.commit()
    return entry
