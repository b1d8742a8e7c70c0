"""Which partner a conversion belongs to, from the strongest carrier present (PRODUCT.md order):
click token, reference code, coupon, customer binding, deal registration.

A click carrier that is present but unusable (forged, unknown, another offer's, a bot's, outside the
window) is noted and the next carrier is tried, so nothing a later carrier could attribute is lost.
A prefetch's token confirms its click as the person's visit and attributes like any person's click.
A carrier naming another partner than an older customer binding or an active deal registration holds
the conversion for review, attributed meanwhile by the offer's ``conflict_rule``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from sqlalchemy import Row, Select, bindparam, func, or_, select

from core.db import db, utcnow
from tracker.attribution.customers import CustomerKeys, company_domain_of
from tracker.attribution.models import Coupon, CustomerBinding, DealRegistration
from tracker.clicks import refcodes, tokens
from tracker.clicks.confirmations import CONFIRMABLE, confirm_visit
from tracker.program.models import Click, Offer, Partner

# A person needs longer than this to read a page and fill in a form; faster conversions are held.
MIN_SECONDS_AFTER_CLICK = 10
# More clicks than this from one /24 on one offer within an hour of the click looks like a farm.
BURST_CLICKS_PER_HOUR = 20
# A conversion reads its click's columns, never changes them through the ORM (a confirmation is one UPDATE),
# so a plain row does: loading the click as a mapped object costs a conversion more CPU than its query.
_CLICK_BY_ID = select(*Click.__table__.columns).where(Click.__table__.c.id == bindparam("id"))
_PARTNER_EMAIL = select(Partner.__table__.c.contact_email).where(Partner.__table__.c.id == bindparam("id"))
_CLICK_BY_REFERENCE = select(*Click.__table__.columns).where(Click.__table__.c.ref_code == bindparam("code"))


@dataclass
class Attribution:
    partner_id: int | None = None
    click: Row[Any] | None = None  # the click's columns (_CLICK_BY_ID)
    carrier: str | None = None
    review_reasons: list[str] = field(default_factory=list)
    notes: dict = field(default_factory=dict)

    def refuse(self, carrier: str, reason: str) -> None:
        self.notes.setdefault("refused", []).append({"carrier": carrier, "reason": reason})


@dataclass(frozen=True)
class Carriers:
    token: str | None = None
    ref_code: str | None = None
    coupon: str | None = None
    customer: CustomerKeys = field(default_factory=CustomerKeys)


def attribute(offer: Offer, occurred_at: datetime, carriers: Carriers, token_key: bytes) -> Attribution:
    result = Attribution()
    if carriers.customer.ignored:
        result.notes["ignored"] = dict(carriers.customer.ignored)
    click = _click_from_token(offer, carriers.token, occurred_at, token_key, result) or _click_from_reference(
        offer, carriers.ref_code, occurred_at, result
    )
    if click is not None:
        result.click, result.partner_id = click, click.partner_id
        result.carrier = "token" if carriers.token and "token" not in _refused(result) else "ref_code"
        _flag_click(offer, click, occurred_at, result)
    else:
        _attribute_without_click(offer, occurred_at, carriers, result)
    if result.carrier in ("token", "ref_code", "coupon"):
        _resolve_conflict(offer, occurred_at, carriers.customer, result)
    if result.carrier in ("token", "ref_code", "coupon", "customer"):
        _resolve_deal_conflict(offer, occurred_at, carriers.customer, result)
    if result.partner_id is not None:
        _flag_self_referral(carriers.customer, result)
    return result


def _refused(result: Attribution) -> set[str]:
    return {note["carrier"] for note in result.notes.get("refused", [])}


def _usable_click(
    offer: Offer, click: Row[Any] | None, occurred_at: datetime, carrier: str, result: Attribution
) -> Row[Any] | None:
    if click is None:
        result.refuse(carrier, "no stored click for it")
    elif click.offer_id != offer.id:
        result.refuse(carrier, "the click was on another offer")
    elif click.traffic != "human" and not (click.traffic == CONFIRMABLE and carrier == "token"):
        result.refuse(carrier, f"the click came from a {click.traffic}, which is never attributed")
        result.review_reasons.append("bot_click")
    elif occurred_at < click.created_at - timedelta(minutes=5):
        result.refuse(carrier, "the conversion happened before the click")
    elif occurred_at - click.created_at > timedelta(days=offer.click_window_days):
        result.refuse(carrier, f"outside the offer's {offer.click_window_days}-day click window")
    else:
        # A prefetch's token reaches a conversion only through the page the person was shown.
        if confirm_visit(click, utcnow()):
            result.notes["prefetch_confirmed"] = True
        return click
    return None


def _click_from_token(offer, token, occurred_at, key, result) -> Row[Any] | None:
    if not token:
        return None
    try:
        claims = tokens.verify_token(key, token)
    except tokens.InvalidToken as exc:
        result.refuse("token", f"invalid token: {exc}")
        return None
    click = db.session.execute(_CLICK_BY_ID, {"id": claims.click_id}).first()
    return _usable_click(offer, click, occurred_at, "token", result)


def _click_from_reference(offer, ref_code, occurred_at, result) -> Row[Any] | None:
    if not ref_code:
        return None
    try:
        code = refcodes.normalize(ref_code)
    except refcodes.InvalidReference as exc:
        result.refuse("ref_code", str(exc))
        return None
    click = db.session.execute(_CLICK_BY_REFERENCE, {"code": code}).first()
    return _usable_click(offer, click, occurred_at, "ref_code", result)


def _attribute_without_click(offer, occurred_at, carriers: Carriers, result: Attribution) -> None:
    if carriers.coupon:
        coupon = db.session.scalar(select(Coupon).where(Coupon.code == carriers.coupon.strip().upper()))
        if coupon is not None and coupon.offer_id == offer.id:
            result.partner_id, result.carrier = coupon.partner_id, "coupon"
            return
        result.refuse("coupon", "no such coupon for this offer")
    binding = _binding_for(offer, occurred_at, carriers.customer)
    if binding is not None:
        result.partner_id, result.carrier = binding.partner_id, "customer"
        return
    deal = _deal_for(offer, occurred_at, carriers.customer)
    if deal is not None:
        result.partner_id, result.carrier = deal.partner_id, "deal"


def _binding_for(offer, occurred_at, keys: CustomerKeys) -> Row[Any] | None:
    """The earliest binding of any of the customer's keys inside the offer's lead window, as a row."""
    pairs = keys.items()
    if not pairs:
        return None
    since = occurred_at - timedelta(days=offer.lead_window_days)
    statement = _earliest_claim("customer_bindings", "bound_at", tuple(kind for kind, _ in pairs))
    values = {f"value_{kind}": value for kind, value in pairs}
    return db.session.execute(statement, {"offer_id": offer.id, "since": since, "until": occurred_at, **values}).first()


def _deal_for(offer, occurred_at, keys: CustomerKeys) -> Row[Any] | None:
    """The earliest registration of the customer's company still running when it converted, as a row."""
    pairs = [(kind, value) for kind, value in keys.items() if kind in ("domain", "tax_id")]
    if not pairs:
        return None
    statement = _earliest_claim("deal_registrations", "registered_at", tuple(kind for kind, _ in pairs))
    values = {f"value_{kind}": value for kind, value in pairs}
    return db.session.execute(statement, {"offer_id": offer.id, "until": occurred_at, **values}).first()


@cache
def _earliest_claim(table_name: str, since_column: str, kinds: tuple[str, ...]) -> Select[Any]:
    """The statement for a binding or a deal registration of these kinds of customer key, built once per shape.

    A binding counts from ``since`` up to ``until`` (the conversion); a registration from its start up to
    the conversion and only while it has not expired. Every conversion carrying customer keys asks, and a
    statement built afresh each time costs more CPU than the database spends on it.
    """
    table = CustomerBinding.__table__ if table_name == "customer_bindings" else DealRegistration.__table__
    started = table.c[since_column]
    matches = [(table.c.key_type == kind) & (table.c.key_value == bindparam(f"value_{kind}")) for kind in kinds]
    window = [started <= bindparam("until")]
    if table_name == "customer_bindings":
        window.append(started >= bindparam("since"))
    else:
        window.append(table.c.expires_at > bindparam("until"))
    return (
        select(*table.columns)
        .where(table.c.offer_id == bindparam("offer_id"), *window, or_(*matches))
        .order_by(started)
        .limit(1)
    )


def _resolve_conflict(offer, occurred_at, keys: CustomerKeys, result: Attribution) -> None:
    binding = _binding_for(offer, occurred_at, keys)
    if binding is None or binding.partner_id == result.partner_id:
        return
    winner = _winner(offer, result, binding.partner_id)
    result.notes["conflict"] = {
        "carrier_partner_id": result.partner_id,
        "carrier": result.carrier,
        "binding_partner_id": binding.partner_id,
        "rule": offer.conflict_rule,
        "winner_partner_id": winner,
    }
    result.review_reasons.append("attribution_conflict")
    _award(result, winner, "customer")


def _resolve_deal_conflict(offer, occurred_at, keys: CustomerKeys, result: Attribution) -> None:
    """A partner's active registration of the customer's company is never overridden unseen.

    The carrier may be another partner's token or a binding from a later lead; either way a person
    decides, and until then the offer's ``conflict_rule`` picks the partner, as for bindings.
    """
    deal = _deal_for(offer, occurred_at, keys)
    if deal is None or deal.partner_id == result.partner_id:
        return
    winner = _winner(offer, result, deal.partner_id)
    result.notes["deal_conflict"] = {
        "carrier_partner_id": result.partner_id,
        "carrier": result.carrier,
        "deal_partner_id": deal.partner_id,
        "deal_registration_id": deal.id,
        "company": deal.key_value,
        "rule": offer.conflict_rule,
        "winner_partner_id": winner,
        "message": (
            f"partner {deal.partner_id} registered {deal.key_value} until {deal.expires_at:%Y-%m-%d}; "
            f"the {result.carrier} names partner {result.partner_id}"
        ),
    }
    result.review_reasons.append("deal_registration_conflict")
    _award(result, winner, "deal")


def _winner(offer, result: Attribution, holder_partner_id: int) -> int | None:
    """``token_wins``: the carrier that arrived with the conversion; ``binding_wins``: the earlier claim."""
    return result.partner_id if offer.conflict_rule == "token_wins" else holder_partner_id


def _award(result: Attribution, partner_id: int | None, carrier: str) -> None:
    if partner_id != result.partner_id:
        result.partner_id, result.carrier, result.click = partner_id, carrier, None


def _flag_click(offer, click: Row[Any], occurred_at: datetime, result: Attribution) -> None:
    if (occurred_at - click.created_at).total_seconds() < MIN_SECONDS_AFTER_CLICK:
        result.review_reasons.append("too_fast_after_click")
    if click.ip_prefix:
        window = timedelta(hours=1)
        burst = db.session.execute(
            select(func.count())
            .select_from(Click)
            .where(
                Click.offer_id == offer.id,
                Click.ip_prefix == click.ip_prefix,
                Click.created_at >= click.created_at - window,
                Click.created_at <= click.created_at + window,
            )
        ).scalar_one()  # a count without GROUP BY is always exactly one row
        if burst > BURST_CLICKS_PER_HOUR:
            result.review_reasons.append("ip_burst")


def _flag_self_referral(keys: CustomerKeys, result: Attribution) -> None:
    if not keys.domain:
        return
    partner_email = db.session.scalar(_PARTNER_EMAIL, {"id": result.partner_id})
    if partner_email and company_domain_of(partner_email.lower()) == keys.domain:
        result.review_reasons.append("self_referral")
