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

from sqlalchemy import func, or_, select

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


@dataclass
class Attribution:
    partner_id: int | None = None
    click: Click | None = None
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
    offer: Offer, click: Click | None, occurred_at: datetime, carrier: str, result: Attribution
) -> Click | None:
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


def _click_from_token(offer, token, occurred_at, key, result) -> Click | None:
    if not token:
        return None
    try:
        claims = tokens.verify_token(key, token)
    except tokens.InvalidToken as exc:
        result.refuse("token", f"invalid token: {exc}")
        return None
    return _usable_click(offer, db.session.get(Click, claims.click_id), occurred_at, "token", result)


def _click_from_reference(offer, ref_code, occurred_at, result) -> Click | None:
    if not ref_code:
        return None
    try:
        code = refcodes.normalize(ref_code)
    except refcodes.InvalidReference as exc:
        result.refuse("ref_code", str(exc))
        return None
    click = db.session.scalar(select(Click).where(Click.ref_code == code))
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


def _binding_for(offer, occurred_at, keys: CustomerKeys) -> CustomerBinding | None:
    pairs = keys.items()
    if not pairs:
        return None
    since = occurred_at - timedelta(days=offer.lead_window_days)
    conditions = [(CustomerBinding.key_type == kind) & (CustomerBinding.key_value == value) for kind, value in pairs]
    return db.session.scalar(
        select(CustomerBinding)
        .where(
            CustomerBinding.offer_id == offer.id,
            CustomerBinding.bound_at >= since,
            CustomerBinding.bound_at <= occurred_at,
            or_(*conditions),
        )
        .order_by(CustomerBinding.bound_at)
        .limit(1)
    )


def _deal_for(offer, occurred_at, keys: CustomerKeys) -> DealRegistration | None:
    pairs = [(kind, value) for kind, value in keys.items() if kind in ("domain", "tax_id")]
    if not pairs:
        return None
    return db.session.scalar(
        select(DealRegistration)
        .where(
            DealRegistration.offer_id == offer.id,
            DealRegistration.registered_at <= occurred_at,
            DealRegistration.expires_at > occurred_at,
            or_(*[(DealRegistration.key_type == k) & (DealRegistration.key_value == v) for k, v in pairs]),
        )
        .order_by(DealRegistration.registered_at)
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


def _flag_click(offer, click: Click, occurred_at: datetime, result: Attribution) -> None:
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
    partner_email = db.session.scalar(select(Partner.contact_email).where(Partner.id == result.partner_id))
    if partner_email and company_domain_of(partner_email.lower()) == keys.domain:
        result.review_reasons.append("self_referral")
