"""The URLs advertisers' pages call: the conversion pixel, the landing helper, and token → reference code."""

from __future__ import annotations

import base64
import logging
from datetime import datetime, timedelta

from flask import Blueprint, Response, current_app, jsonify, request, send_from_directory
from sqlalchemy import func, select

from core.api.ratelimits import limited, rate_limits, too_many_requests
from core.db import db, utcnow
from tracker.attribution.conversions import ConversionInput, InvalidConversion, record_conversion
from tracker.attribution.models import Conversion, PixelError
from tracker.attribution.signing import signature_matches
from tracker.clicks import refcodes, tokens
from tracker.clicks.confirmations import CONFIRMABLE, HELPER_CONFIRMS_WITHIN, confirm_visit, note_visit
from tracker.clicks.records import click_id_time, ip_prefix
from tracker.program.models import Click, Offer
from tracker.program.offer_cache import offer_for_conversion
from tracker.services import tracker

log = logging.getLogger(__name__)
bp = Blueprint("public", __name__)
TRANSPARENT_GIF = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")
NO_CACHE = {"Cache-Control": "no-store, no-cache, must-revalidate, max-age=0", "Pragma": "no-cache", "Expires": "0"}
PIXEL_BURST_PER_HOUR = 5


def _gif() -> Response:
    return Response(TRANSPARENT_GIF, mimetype="image/gif", headers=NO_CACHE)


def _pixel_input(offer: Offer) -> ConversionInput:
    args = request.args
    order_id = (args.get("order_id") or "").strip()
    if not order_id or len(order_id) > 128:
        raise InvalidConversion("order_id is required (at most 128 characters)")
    prefix = ip_prefix(request.remote_addr)
    reasons = _pixel_review_reasons(offer)
    if prefix and _recent_pixels_from(offer, prefix) >= PIXEL_BURST_PER_HOUR:
        reasons.append("ip_burst")
    return ConversionInput(
        event=(args.get("event") or "lead").strip(),
        order_id=order_id,
        source="pixel",
        amount=args.get("amount") or None,
        currency=(args.get("currency") or "").strip().upper() or None,
        token=args.get("atk") or None,
        ref_code=args.get("ref") or None,
        coupon=args.get("coupon") or None,
        email=args.get("email") or None,
        company_domain=args.get("domain") or None,
        tax_id=args.get("tax_id") or None,
        ip_prefix=prefix,
        extra_review_reasons=reasons,
    )


def _pixel_review_reasons(offer: Offer) -> list[str]:
    """Why a pixel conversion waits for a person; a signing offer has refused unsigned pixels already."""
    reasons = []
    if not offer.pixel_signing and "pixel" not in offer.trusted_channels:
        # Anyone can fire the URL with any amount: without a signature only the advertiser can vouch for it.
        reasons.append("unsigned_pixel")
    if offer.pixel_requires_approval:
        reasons.append("pixel_needs_approval")
    return reasons


def _check_signature(offer: Offer) -> None:
    if not offer.pixel_signing:
        return
    args = request.args
    signature = args.get("sig")
    if not signature:
        raise InvalidConversion(f"offer {offer.slug!r} signs its pixels and this one has no sig")
    fields = {name: args.get(name, "") for name in ("event", "order_id", "amount", "currency")}
    if not signature_matches(offer.pixel_secret, signature, offer_slug=offer.slug, **fields):
        raise InvalidConversion(
            "sig does not match: HMAC-SHA256 over offer|event|order_id|amount|currency with the offer's pixel secret"
        )


def _recent_pixels_from(offer: Offer, prefix: str) -> int:
    # A count without GROUP BY is always exactly one row.
    return db.session.execute(
        select(func.count())
        .select_from(Conversion)
        .where(
            Conversion.offer_id == offer.id,
            Conversion.ip_prefix == prefix,
            Conversion.received_at >= utcnow() - timedelta(hours=1),
        )
    ).scalar_one()


def _record_pixel_error(offer_slug: str, reason: str) -> None:
    db.session.rollback()
    if not rate_limits().admit("pixel_errors", ip_prefix(request.remote_addr)):
        return
    db.session.add(
        PixelError(
            offer_slug=offer_slug[:64], reason=reason[:500], query=request.query_string.decode(errors="replace")[:2048]
        )
    )
    db.session.commit()


@bp.get("/p/<offer_slug>.gif")
@limited("pixel", key=lambda: ip_prefix(request.remote_addr))
def pixel(offer_slug: str):
    """Always a 1x1 GIF: a broken pixel must never show on the advertiser's thank-you page."""
    try:
        offer = offer_for_conversion(offer_slug)
        if offer is None:
            raise InvalidConversion(f"unknown offer {offer_slug!r}")
        _check_signature(offer)
        record_conversion(offer, _pixel_input(offer), "pixel", tracker().token_key)
    except InvalidConversion as exc:
        _record_pixel_error(offer_slug, str(exc))
    except Exception:
        log.exception("pixel for %s failed", offer_slug)
        try:
            _record_pixel_error(offer_slug, "internal error; it has been logged")
        except Exception:
            db.session.rollback()
    return _gif()


@bp.get("/t.js")
def landing_helper():
    folder = current_app.static_folder
    if folder is None:  # create_app keeps Flask's static folder; without it there is no t.js to serve
        raise RuntimeError("the app has no static folder to serve t.js from")
    response = send_from_directory(folder, "t.js", mimetype="application/javascript", max_age=3600)
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response


def _cors(response: Response) -> Response:
    # The helper runs on the advertiser's origin and asks this one; no credentials are ever involved.
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


def _stored_click(click_id: int):
    return db.session.execute(select(Click.ref_code, Click.traffic).where(Click.id == click_id)).one_or_none()


def _confirm_prefetch(click_id: int, now: datetime) -> None:
    """The helper runs in the page the person sees, which a prefetch alone never does: its visit confirms one."""
    if now - click_id_time(click_id) > HELPER_CONFIRMS_WITHIN:
        return
    click = db.session.get(Click, click_id)
    if click is not None and confirm_visit(click, now):
        db.session.commit()


@bp.get("/t/ref")
def reference_for_token():
    """Turn a valid click token into its reference code, for the landing helper to show; confirm a prefetch."""
    retry_after = rate_limits().hit("landing_helper", ip_prefix(request.remote_addr))
    if retry_after is not None:
        return _cors(too_many_requests(retry_after))
    token = request.args.get("atk", "")
    try:
        claims = tokens.verify_token(tracker().token_key, token)
    except tokens.InvalidToken as exc:
        return _cors(jsonify(error=f"invalid token: {exc}", status=400)), 400
    now = utcnow()
    stored = _stored_click(claims.click_id)
    recent = now - click_id_time(claims.click_id) < timedelta(minutes=2)
    if stored is None and recent and note_visit(claims.click_id, now):
        db.session.rollback()  # a fresh snapshot: the row may have been committed meanwhile
        stored = _stored_click(claims.click_id)
    if stored is None:
        if recent:
            return _cors(jsonify(pending=True)), 202
        return _cors(jsonify(error="no click recorded for this token", status=404)), 404
    if stored.traffic == CONFIRMABLE:
        _confirm_prefetch(claims.click_id, now)
    response = _cors(jsonify(ref=refcodes.display(stored.ref_code)))
    response.headers["Cache-Control"] = "private, max-age=86400"
    return response
