"""The partner link: ``GET /c/<code>`` answers a 302 with a signed click token, in a few milliseconds."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime
from urllib.parse import urlsplit

from flask import Blueprint, Response, request

from core.api.ratelimits import rate_limits, too_many_requests
from tracker.clicks import tokens
from tracker.clicks.records import ClickRecord, ip_prefix, new_click_id
from tracker.clicks.useragents import classify_user_agent
from tracker.program.links import DeepLinkRefused, choose_destination, with_token
from tracker.program.models import SUB_IDS
from tracker.services import tracker

bp = Blueprint("clicks", __name__)
MAX_SUB_LENGTH = 255
# Read straight from the WSGI environ: the click path skips Werkzeug's header and query parsing
# where it can, since every microsecond here is paid on every click.
_PREFETCH_HEADERS = ("HTTP_PURPOSE", "HTTP_SEC_PURPOSE", "HTTP_X_PURPOSE", "HTTP_X_MOZ")
# C0 control characters and DEL: no link carries them, and a click holding NUL once reached the stream and
# stopped the worker (PostgreSQL refuses NUL in text). Refused here, before anything is recorded.
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class BadClick(ValueError):
    pass


def _refuse(status: int, reason: str) -> Response:
    return Response(reason + "\n", status=status, mimetype="text/plain", headers={"Cache-Control": "no-store"})


def _traffic_class(environ: dict, user_agent_traffic: str) -> str:
    """Only a person's GET is a click: HEAD, prefetch and link previews are redirected but not counted."""
    if environ["REQUEST_METHOD"] == "HEAD":
        return "head"
    if user_agent_traffic != "human":
        # A prefetch may later be confirmed as the person's visit; a bot's or an unfurler's never is.
        return user_agent_traffic
    for name in _PREFETCH_HEADERS:
        value = environ.get(name)
        if value:
            value = value.lower()
            # Safari's "X-Purpose: preview" renders a thumbnail that nobody visits: a preview, not a prefetch.
            if "preview" in value:
                return "preview"
            if "prefetch" in value:
                return "prefetch"
    return user_agent_traffic


def _sub_ids(args, defaults: tuple[str | None, ...]) -> list[str | None]:
    if args is None:
        return list(defaults)
    values = []
    for name, default in zip(SUB_IDS, defaults, strict=True):
        value = args.get(name)
        if value is not None and len(value) > MAX_SUB_LENGTH:
            raise BadClick(f"{name} is longer than {MAX_SUB_LENGTH} characters")
        if value and _CONTROL.search(value):
            raise BadClick(f"{name} must not contain control characters")
        values.append(value if value else default)
    return values


def _referrer_host(environ: dict) -> str | None:
    referrer = environ.get("HTTP_REFERER")
    if not referrer:
        return None
    try:
        host = urlsplit(referrer).hostname
    except ValueError:
        return None
    if not host or _CONTROL.search(host):
        return None  # a Referer holding control characters is dropped, not the click: it could not be stored
    return host[:255]


@bp.route("/c/<code>", methods=["GET"])
def follow_link(code: str):
    if _CONTROL.search(code):
        return _refuse(400, "link code must not contain control characters")
    services = tracker()
    target = services.links.resolve(code) if len(code) <= 32 else None
    if target is None:
        # Counted only here, so a known code never touches the limiter: a scan of guessed codes is slowed,
        # real clicks cost what they did.
        retry_after = rate_limits().hit("unknown_links", ip_prefix(request.environ.get("REMOTE_ADDR")))
        if retry_after is not None:
            return too_many_requests(retry_after, "too many unknown links from this network\n")
        return _refuse(404, "unknown link")
    if not target.active:
        if target.fallback_url:
            return Response(status=302, headers={"Location": target.fallback_url, "Cache-Control": "no-store"})
        return _refuse(410, "this offer is not running")
    environ = request.environ
    args = request.args if environ.get("QUERY_STRING") else None
    deep_url = args.get("to") if args is not None else None
    try:
        destination = choose_destination(target, deep_url)
        subs = _sub_ids(args, target.default_subs)
    except (DeepLinkRefused, BadClick) as exc:
        return _refuse(400, str(exc))

    now_ms = time.time_ns() // 1_000_000
    click_id = new_click_id(now_ms)
    token = tokens.issue_token(services.token_key, click_id, now_ms // 1000)
    user_agent = environ.get("HTTP_USER_AGENT", "")
    agent = classify_user_agent(user_agent)
    address = environ.get("REMOTE_ADDR")
    visitor_hash, visitor_hash_prev = services.visitors.hashes(
        address, user_agent, datetime.fromtimestamp(now_ms / 1000, tz=UTC)
    )
    services.recorder.record(
        ClickRecord(
            id=click_id,
            created_ms=now_ms,
            link_id=target.link_id,
            offer_id=target.offer_id,
            partner_id=target.partner_id,
            traffic=_traffic_class(environ, agent.traffic),
            device=agent.device,
            os=agent.os,
            browser=agent.browser,
            visitor_hash=visitor_hash,
            visitor_hash_prev=visitor_hash_prev,
            ip_prefix=ip_prefix(address),
            sub1=subs[0],
            sub2=subs[1],
            sub3=subs[2],
            sub4=subs[3],
            sub5=subs[4],
            deep_link=deep_url or None,
            referrer_host=_referrer_host(environ),
        )
    )
    return Response(
        status=302,
        headers={
            "Location": with_token(destination, target.token_param, token),
            "Cache-Control": "no-store",
            "Referrer-Policy": "no-referrer-when-downgrade",
        },
    )
