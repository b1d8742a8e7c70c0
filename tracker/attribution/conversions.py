"""Recording conversions once, attributing them, binding lead customers, and changing their status."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, Table, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import make_transient_to_detached

from core.db import db, retry_transaction, utcnow
from core.money import InvalidAmount, to_minor
from tracker.attribution.carriers import Carriers, attribute
from tracker.attribution.customers import CustomerKeys, customer_keys
from tracker.attribution.models import Conversion, ConversionEvent, CustomerBinding
from tracker.attribution.signals import conversion_recorded, conversion_status_changed
from tracker.postbacks.messages import enqueue_for_conversion
from tracker.program.models import Offer

# Which status each action may start from, and where it leads.
TRANSITIONS = {
    "approve": ({"pending", "review"}, "approved"),
    "reject": ({"pending", "review"}, "rejected"),
    "reverse": ({"approved"}, "reversed"),
}


# Built once: SQLAlchemy then finds each compiled statement by its cache key instead of building it anew.
_INSERT_CONVERSION = insert(cast(Table, Conversion.__table__)).returning(Conversion.__table__.c.id)
_INSERT_EVENT = insert(cast(Table, ConversionEvent.__table__))


class InvalidConversion(ValueError):
    pass


class TransitionRefused(ValueError):
    pass


@dataclass
class ConversionInput:
    event: str
    order_id: str
    source: str
    amount: object = None
    currency: str | None = None
    occurred_at: datetime | None = None
    token: str | None = None
    ref_code: str | None = None
    coupon: str | None = None
    email: str | None = None
    company_domain: str | None = None
    tax_id: str | None = None
    ip_prefix: str | None = None
    extra_review_reasons: list[str] = field(default_factory=list)


def find_conversion(offer_id: int, event: str, order_id: str) -> Conversion | None:
    return db.session.scalar(
        select(Conversion).where(
            Conversion.offer_id == offer_id, Conversion.event == event, Conversion.order_id == order_id
        )
    )


def _money(data: ConversionInput) -> tuple[int | None, str | None]:
    if data.amount is None and data.currency is None:
        return None, None
    if data.amount is None or data.currency is None:
        raise InvalidConversion("amount and currency come together")
    try:
        return to_minor(data.amount, data.currency), data.currency
    except InvalidAmount as exc:
        raise InvalidConversion(str(exc)) from None


def _check(offer: Offer, data: ConversionInput) -> tuple[int | None, str | None, CustomerKeys, datetime]:
    if offer.status != "active":
        raise InvalidConversion(f"offer {offer.slug!r} is {offer.status}")
    if not offer.accepts_event(data.event):
        raise InvalidConversion(
            f"offer {offer.slug!r} has no event {data.event!r}; "
            f"it accepts lead, sale{''.join(', ' + e for e in offer.custom_events)}"
        )
    occurred_at = data.occurred_at or utcnow()
    if occurred_at > utcnow() + timedelta(minutes=5):
        raise InvalidConversion("occurred_at is in the future")
    # An unusable customer field is left out and noted (keys.ignored), never a reason to lose the sale.
    keys = customer_keys(data.email, data.company_domain, data.tax_id)
    amount_minor, currency = _money(data)
    return amount_minor, currency, keys, occurred_at


def _ceiling_reasons(offer: Offer, amount_minor: int | None, currency: str | None) -> list[str]:
    if offer.review_above_minor is None or amount_minor is None:
        return []
    if currency != offer.review_above_currency:
        # Without exchange rates the amount cannot be compared; a ceiling bypassed by naming another
        # currency would be no ceiling.
        return ["amount_currency_not_ceiling"]
    return ["amount_above_ceiling"] if amount_minor > offer.review_above_minor else []


def record_conversion(offer: Offer, data: ConversionInput, actor: str, token_key: bytes) -> tuple[Conversion, bool]:
    """Store the conversion and return it with True, or return the one already stored with False.

    Its transaction takes row locks (the partner's, by the ledger's receivers; a customer binding), so
    PostgreSQL may still end it as a deadlock victim or a serialisation failure under load; it is then
    run again whole, rather than answering 500 with an accepted conversion lost. A rerun starts with the
    repeat lookup, so (offer, event, order_id) stays one conversion.
    """
    return retry_transaction(lambda: _record_once(offer, data, actor, token_key))


def _record_once(offer: Offer, data: ConversionInput, actor: str, token_key: bytes) -> tuple[Conversion, bool]:
    # No lookup for a repeat first: nearly every conversion is new, and the unique constraint on (offer,
    # event, order_id) finds a repeat at the insert below for no round trip of its own.
    try:
        amount_minor, currency, keys, occurred_at = _check(offer, data)
    except InvalidConversion:
        # A repeat of one recorded before the offer was paused (or the clock moved) still gets its answer.
        existing = find_conversion(offer.id, data.event, data.order_id)
        if existing is None:
            raise
        return existing, False
    result = attribute(offer, occurred_at, Carriers(data.token, data.ref_code, data.coupon, keys), token_key)
    ceiling = _ceiling_reasons(offer, amount_minor, currency)
    reasons = list(dict.fromkeys(result.review_reasons + data.extra_review_reasons + ceiling))
    row = {
        "offer_id": offer.id,
        "event": data.event,
        "order_id": data.order_id,
        "amount_minor": amount_minor,
        "currency": currency,
        "occurred_at": occurred_at,
        "received_at": utcnow(),
        "source": data.source,
        "status": "review" if reasons else "pending",
        "partner_id": result.partner_id,
        "click_id": result.click.id if result.click else None,
        "carrier": result.carrier,
        "customer_email": keys.email,
        "customer_domain": keys.domain,
        "customer_tax_id": keys.tax_id,
        "coupon_code": data.coupon.strip().upper() if data.coupon else None,
        "ip_prefix": data.ip_prefix,
        "review_reasons": reasons,
        "attribution_notes": result.notes,
    }
    try:
        conversion = _insert_conversion(row, actor, ", ".join(reasons))
        if data.event == "lead" and conversion.partner_id is not None:
            _bind_customer(offer, conversion, conversion.partner_id, keys)
        # In the same transaction: a conversion and what its receivers add (commissions) commit, or roll
        # back, together. The postback comes after them, so its macros can report the commission.
        conversion_recorded.send(conversion)
        enqueue_for_conversion(conversion, "conversion")
        db.session.commit()
    except IntegrityError:
        # A repeat, or two deliveries of one order at once: the unique constraint on (offer, event,
        # order_id) let exactly one insert commit; this one answers with that row.
        db.session.rollback()
        winner = find_conversion(offer.id, data.event, data.order_id)
        if winner is None:
            raise
        return winner, False
    return conversion, True


def _insert_conversion(row: dict[str, Any], actor: str, reason: str) -> Conversion:
    """Insert the conversion and its first event as two Core statements, and return it as a session row.

    Every conversion comes this way, and the ORM's unit of work for one new row costs more CPU than the
    database's insert: the row is written directly, then made the session's own (persistent, nothing
    pending), so receivers and postbacks use it as any loaded conversion.
    """
    conversion_id = db.session.execute(_INSERT_CONVERSION, row).scalar_one()
    event = {"conversion_id": conversion_id, "from_status": None, "to_status": row["status"], "actor": actor}
    db.session.execute(_INSERT_EVENT, event | {"reason": reason, "created_at": row["received_at"]})
    conversion = Conversion(id=conversion_id, **row)
    make_transient_to_detached(conversion)
    db.session.add(conversion)
    return conversion


def _bind_customer(offer: Offer, conversion: Conversion, partner_id: int, keys: CustomerKeys) -> None:
    """Bind the lead's keys to its partner (``partner_id``); an older binding still inside the lead window stays."""
    expired_before = conversion.occurred_at - timedelta(days=offer.lead_window_days)
    for kind, value in keys.items():
        binding = db.session.scalar(
            select(CustomerBinding).where(
                CustomerBinding.offer_id == offer.id,
                CustomerBinding.key_type == kind,
                CustomerBinding.key_value == value,
            )
        )
        if binding is None:
            # A savepoint, so a concurrent lead binding the same key loses only this row, not the lead.
            try:
                with db.session.begin_nested():
                    db.session.add(
                        CustomerBinding(
                            offer_id=offer.id,
                            key_type=kind,
                            key_value=value,
                            partner_id=partner_id,
                            conversion_id=conversion.id,
                            bound_at=conversion.occurred_at,
                        )
                    )
            except IntegrityError:
                continue
        elif binding.bound_at < expired_before:
            binding.partner_id, binding.conversion_id = partner_id, conversion.id
            binding.bound_at = conversion.occurred_at


def change_status(conversion: Conversion, action: str, actor: str, reason: str) -> Conversion:
    allowed_from, target = TRANSITIONS[action]
    previous = conversion.status
    # Compare-and-set: of two people approving and rejecting at once, exactly one wins.
    # An UPDATE without RETURNING executes to a CursorResult, which has rowcount; Session.execute is
    # typed as returning the plain Result every statement gives.
    result = cast(
        CursorResult[Any],
        db.session.execute(
            update(Conversion)
            .where(Conversion.id == conversion.id, Conversion.status.in_(allowed_from))
            .values(status=target)
            .execution_options(synchronize_session=False)
        ),
    )
    changed = result.rowcount
    if changed != 1:
        db.session.rollback()
        db.session.refresh(conversion)
        raise TransitionRefused(f"cannot {action} a conversion that is {conversion.status}")
    db.session.add(
        ConversionEvent(conversion_id=conversion.id, from_status=previous, to_status=target, actor=actor, reason=reason)
    )
    conversion.status = target
    conversion_status_changed.send(conversion, status=target)
    enqueue_for_conversion(conversion, "status")
    db.session.commit()
    return conversion
