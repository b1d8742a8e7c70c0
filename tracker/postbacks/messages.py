"""Partner postback URLs: templates and their macros, target checks, signatures, and queuing.

Sending is in ``tracker.postbacks.delivery``; this module decides what to send and where it may go.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import re
import socket
from urllib.parse import quote, urlsplit

from sqlalchemy import select

from core.config_cache import VersionedCache
from core.db import db, utcnow
from core.money import InvalidAmount, major_text
from tracker.attribution.models import Conversion
from tracker.postbacks.models import PostbackDelivery, PostbackEndpoint
from tracker.postbacks.signals import macros_requested
from tracker.program.models import SUB_IDS, Click

MACROS = ("click_id", *SUB_IDS, "event", "order_id", "amount", "currency", "status", "commission")
SIGNATURE_HEADER = "X-Handoff-Signature"
MAX_URL_LENGTH = 2048
# What a partner's tracker receives from "send test": plausible values it can recognise.
SAMPLE_VALUES = {
    "click_id": "1234567890",
    "sub1": "test-sub1",
    "sub2": "test-sub2",
    "sub3": "",
    "sub4": "",
    "sub5": "",
    "event": "sale",
    "order_id": "TEST-ORDER-1",
    "amount": "12.34",
    "currency": "EUR",
    "status": "approved",
    "commission": "",
}

_MACRO = re.compile(r"\{([^{}]*)\}")
# Each partner's active endpoint id, or None: every conversion asks and most partners have none. Saving an
# endpoint bumps the cache's version (core.config_cache; tracker.postbacks.models watches PostbackEndpoint).
_active_endpoints: VersionedCache[int | None] = VersionedCache("postback_endpoints")


class PostbackRefused(Exception):
    """The target may not receive postbacks; the message says why."""


def validate_template(template: str) -> str:
    """Return the template if it is an absolute http(s) URL using only known macros, else ValueError."""
    if len(template) > MAX_URL_LENGTH:
        raise ValueError(f"must be at most {MAX_URL_LENGTH} characters")
    if any(char in template for char in "\\ \t\r\n"):
        raise ValueError("must not contain spaces, tabs, newlines or backslashes")
    unknown = sorted({name for name in _MACRO.findall(template) if name not in MACROS})
    if unknown:
        raise ValueError(
            f"unknown macro(s) {', '.join('{' + n + '}' for n in unknown)}; "
            f"known: {', '.join('{' + m + '}' for m in MACROS)}"
        )
    if "{" in _MACRO.sub("", template) or "}" in _MACRO.sub("", template):
        raise ValueError("has an unmatched '{' or '}'; macros look like {click_id}")
    parts = urlsplit(template)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("must be an absolute http or https URL")
    if _MACRO.search(f"{parts.scheme}://{parts.netloc}"):
        # The host is checked when the partner sets the URL; a macro there would choose it per conversion.
        raise ValueError("macros may appear in the path and query only, not in the host")
    return template


def render_url(template: str, values: dict) -> str:
    """Substitute every macro with its URL-encoded value; a macro without a value becomes empty."""

    def substitute(match: re.Match) -> str:
        value = values.get(match.group(1))
        return quote("" if value is None else str(value), safe="")

    return _MACRO.sub(substitute, template)


def _refusal(address: ipaddress.IPv4Address | ipaddress.IPv6Address, allow_private: bool) -> str | None:
    if isinstance(address, ipaddress.IPv6Address):
        # ::ffff:127.0.0.1 and 2002:7f00:1:: reach IPv4 hosts; judge the IPv4 address they carry.
        address = address.ipv4_mapped or address.sixtofour or address
    for label, refused in (("unspecified", address.is_unspecified), ("multicast", address.is_multicast)):
        if refused:
            return f"{label} address {address}"
    if allow_private:
        return None
    # Loopback first: ::1 is also in a reserved block, and "loopback" is the reason a reader expects.
    for label, refused in (
        ("loopback", address.is_loopback),
        ("link-local", address.is_link_local),
        ("private", address.is_private),
        ("reserved", address.is_reserved),
        ("non-public", not address.is_global),
    ):
        if refused:
            return f"{label} address {address}"
    return None


def check_target(url: str, allow_private: bool) -> list[str]:
    """Refuse a URL whose host resolves to ANY address a partner must not make us call.

    Returns the checked addresses in the resolver's order. A sender connects to one of these, never
    resolves the name again: a second answer could differ from the one checked (DNS rebinding).
    """
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise PostbackRefused("the target is not an absolute http or https URL")
    host = parts.hostname
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except ValueError:
        raise PostbackRefused("the target has an invalid port") from None
    except (socket.gaierror, UnicodeError) as exc:
        raise PostbackRefused(f"host {host!r} does not resolve: {exc}") from None
    addresses: list[str] = []
    for info in infos:
        host_address = info[4][0]
        if not isinstance(host_address, str):
            # Only a Python built without IPv6 gives an (int, bytes) address; refuse what cannot be checked.
            raise PostbackRefused(f"host {host!r} resolves to an address that cannot be checked: {info[4]!r}")
        address = ipaddress.ip_address(host_address.split("%", 1)[0])
        reason = _refusal(address, allow_private)
        if reason:
            raise PostbackRefused(f"host {host!r} resolves to a {reason}; postbacks go to public hosts only")
        if host_address not in addresses:
            addresses.append(host_address)
    return addresses


def format_amount(amount_minor: int | None, currency: str | None) -> str:
    """The ``{amount}`` macro: the amount in major units (1999 EUR -> "19.99"), empty when there is none."""
    if amount_minor is None or currency is None:
        return ""
    try:
        return major_text(amount_minor, currency)
    except InvalidAmount:
        return ""  # an empty amount is honest; guessing the minor units could be off by 100x


def macro_values(conversion: Conversion) -> dict[str, str]:
    values = {"click_id": "", **dict.fromkeys(SUB_IDS, "")}
    if conversion.click_id is not None:
        values["click_id"] = str(conversion.click_id)
        click = db.session.get(Click, conversion.click_id)
        if click is not None:
            values.update({sub: getattr(click, sub) or "" for sub in SUB_IDS})
    return (
        values
        | {
            "event": conversion.event or "",
            "order_id": conversion.order_id or "",
            "amount": format_amount(conversion.amount_minor, conversion.currency),
            "currency": conversion.currency or "",
            "status": conversion.status or "",
            "commission": "",
        }
        | _values_from_receivers(conversion)
    )


def _values_from_receivers(conversion: Conversion) -> dict[str, str]:
    extra: dict[str, str] = {}
    for _receiver, values in macros_requested.send(conversion):
        extra.update({key: str(value) for key, value in (values or {}).items() if key in MACROS})
    return extra


def new_delivery(
    endpoint: PostbackEndpoint, kind: str, values: dict, conversion: Conversion | None = None
) -> PostbackDelivery:
    url = render_url(endpoint.url_template, values)
    delivery = PostbackDelivery(
        endpoint=endpoint,
        conversion=conversion,
        kind=kind,
        url=url,
        status="pending",
        attempts=0,
        next_attempt_at=utcnow(),
    )
    if len(url) > MAX_URL_LENGTH:
        # Long sub ids can push the URL past what the partner's server (and our column) accepts.
        delivery.url, delivery.status = url[:MAX_URL_LENGTH], "failed"
        delivery.last_error = f"the rendered URL is {len(url)} characters; at most {MAX_URL_LENGTH} are sent"
    return delivery


def enqueue_for_conversion(conversion: Conversion, kind: str) -> PostbackDelivery | None:
    """Queue a postback for a new conversion ("conversion") or a status change ("status").

    Adds to the session without committing: the caller commits it with the conversion, so a postback
    exists exactly when the change it reports does.
    """
    if kind not in ("conversion", "status"):
        raise ValueError(f"kind must be 'conversion' or 'status', got {kind!r}")
    # No autoflush: a flush here would raise the caller's IntegrityError outside its own try block.
    with db.session.no_autoflush:
        # Before a flush, a partner set through the relationship has no partner_id yet.
        partner_id = conversion.partner_id or (conversion.partner.id if conversion.partner else None)
        if partner_id is None:
            return None
        endpoint_id = _active_endpoints.get(partner_id, lambda: _active_endpoint_id(partner_id))
        endpoint = None if endpoint_id is None else db.session.get(PostbackEndpoint, endpoint_id)
        if endpoint is None or not endpoint.active:
            return None
        delivery = new_delivery(endpoint, kind, macro_values(conversion), conversion)
    db.session.add(delivery)
    return delivery


def _active_endpoint_id(partner_id: int) -> int | None:
    return db.session.scalar(
        select(PostbackEndpoint.id).where(PostbackEndpoint.partner_id == partner_id, PostbackEndpoint.active.is_(True))
    )


def sign(secret: str, timestamp: int, url: str) -> str:
    """The signature header's value: ``t=<unix>,v1=<hex HMAC-SHA256(secret, "<t>.<url>")>``."""
    t = int(timestamp)
    digest = hmac.new(secret.encode(), f"{t}.{url}".encode(), hashlib.sha256).hexdigest()
    return f"t={t},v1={digest}"
