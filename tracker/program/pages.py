"""Pages a person looks at: the overview of a running Handoff, and the demo offer's landing page."""

from __future__ import annotations

import secrets
from datetime import timedelta

from flask import Blueprint, abort, redirect, render_template, request
from sqlalchemy import Integer, case, cast, func, select
from werkzeug.wrappers import Response

from core.db import db, utcnow
from core.people.access import HOME
from tracker.attribution.models import Conversion
from tracker.attribution.signing import pixel_signature
from tracker.clicks import refcodes, tokens
from tracker.program.models import Click, Link, Offer, Partner
from tracker.services import tracker

bp = Blueprint("pages", __name__)
# The demo licence's price: the landing page's "Buy" records a signed sale of it.
DEMO_SALE_AMOUNT, DEMO_SALE_CURRENCY = "1200.00", "EUR"


@bp.before_request
def only_outside_production() -> Response | None:
    # The overview lists every partner, link and count to whoever asks, and the demo landing page belongs to the
    # demo program: neither is served in production, where the site's front door is the portal.
    if tracker().settings.production:
        if request.path == "/":
            return redirect(HOME)
        abort(404)
    return None


def _link_overview(days: int = 30) -> list[dict]:
    since = utcnow() - timedelta(days=days)
    human = Click.traffic == "human"
    counts = (
        select(
            Click.link_id,
            func.sum(cast(case((human, 1), else_=0), Integer)).label("clicks"),
            func.sum(cast(case((human & Click.is_unique, 1), else_=0), Integer)).label("unique_clicks"),
            func.sum(cast(case((~human, 1), else_=0), Integer)).label("bot_clicks"),
        )
        .where(Click.created_at >= since)
        .group_by(Click.link_id)
        .subquery()
    )
    conversions = (
        select(
            Click.link_id,
            func.sum(cast(case((Conversion.event == "lead", 1), else_=0), Integer)).label("leads"),
            func.sum(cast(case((Conversion.event == "sale", 1), else_=0), Integer)).label("sales"),
        )
        .join(Click, Conversion.click_id == Click.id)
        .where(Conversion.occurred_at >= since, Conversion.status.in_(("pending", "review", "approved")))
        .group_by(Click.link_id)
        .subquery()
    )
    rows = db.session.execute(
        select(
            Link.code,
            Partner.name,
            Partner.kind,
            Offer.slug,
            counts.c.clicks,
            counts.c.unique_clicks,
            counts.c.bot_clicks,
            conversions.c.leads,
            conversions.c.sales,
        )
        .join(Partner, Link.partner_id == Partner.id)
        .join(Offer, Link.offer_id == Offer.id)
        .outerjoin(counts, counts.c.link_id == Link.id)
        .outerjoin(conversions, conversions.c.link_id == Link.id)
        .order_by(Link.id)
        .limit(200)
    )
    return [dict(row._mapping) for row in rows]


@bp.get("/")
def overview():
    settings = tracker().settings
    return render_template(
        "overview.html",
        links=_link_overview(),
        base_url=settings.public_base_url,
        click_stream=settings.uses_click_stream,
    )


@bp.get("/demo/landing")
def demo_landing():
    token = request.args.get("atk", "")
    claims, problem, reference = None, None, None
    if token:
        try:
            claims = tokens.verify_token(tracker().token_key, token)
        except tokens.InvalidToken as exc:
            problem = str(exc)
    if claims:
        code = db.session.scalar(select(Click.ref_code).where(Click.id == claims.click_id))
        reference = refcodes.display(code) if code else None
    lead_order, lead_sig = _signed_demo_order("lead", "", "")
    sale_order, sale_sig = _signed_demo_order("sale", DEMO_SALE_AMOUNT, DEMO_SALE_CURRENCY)
    return render_template(
        "demo_landing.html",
        token=token,
        claims=claims,
        problem=problem,
        reference=reference,
        order_id=lead_order,
        sig=lead_sig,
        sale={"order_id": sale_order, "sig": sale_sig, "amount": DEMO_SALE_AMOUNT, "currency": DEMO_SALE_CURRENCY},
    )


def _signed_demo_order(event: str, amount: str, currency: str) -> tuple[str, str]:
    """An order id for the page's lead or sale and its pixel signature, as an advertiser's server renders them."""
    order_id = f"DEMO-{secrets.token_hex(6)}"
    offer = db.session.scalar(select(Offer).where(Offer.slug == "demo-crm"))
    if offer is None:
        return order_id, ""
    return order_id, pixel_signature(offer.pixel_secret, offer.slug, event, order_id, amount, currency)
