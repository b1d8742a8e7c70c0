"""From a link code to where the click goes: cached link lookup, deep-link rules, the token parameter."""

from __future__ import annotations

import re
import secrets
import string
import threading
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import urlsplit, urlunsplit

from cachetools import TTLCache
from sqlalchemy import select

from core.db import db
from tracker.program.hosts import wildcard_too_broad
from tracker.program.models import SUB_IDS, Link, Offer, Partner

CODE_ALPHABET = string.ascii_letters + string.digits
GENERATED_CODE_LENGTH = 8
MAX_URL_LENGTH = 2048
# Space, backslash, every C0 control character and DEL: none belongs in a URL, browsers read a URL holding
# some of them (backslash, tab, newline) as another URL than the one checked, and NUL cannot be stored.
_NOT_IN_URL = re.compile(r"[\x00-\x20\x7f\\]")


class DeepLinkRefused(ValueError):
    """A ``to=`` URL that is not on the offer's allowed hosts; it is refused, never followed."""


@dataclass(frozen=True, slots=True)
class LinkTarget:
    link_id: int
    partner_id: int
    offer_id: int
    landing_url: str
    allowed_hosts: frozenset[str]
    token_param: str
    active: bool
    fallback_url: str | None
    default_subs: tuple[str | None, ...]


def generate_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(GENERATED_CODE_LENGTH))


def host_allowed(host: str, allowed: frozenset[str]) -> bool:
    """Exact host names, or ``*.example.com`` for any subdomain of example.com."""
    if host in allowed:
        return True
    labels = host.split(".")
    parents = (".".join(labels[i:]) for i in range(1, len(labels)))
    # Offers saved before allowed hosts were checked against the Public Suffix List may still hold a
    # pattern like *.com or *.github.io; such a pattern matches nothing, or it would be an open redirect.
    return any("*." + parent in allowed and not wildcard_too_broad(parent) for parent in parents)


class LinkDirectory:
    """Looks links up by code, keeping each answer briefly so the click path rarely touches SQL.

    A paused offer takes effect within ``ttl_seconds`` on every node. Unknown codes are remembered for
    only two seconds, so a link a partner just created works at once while a scan of random codes
    still cannot hammer the database.
    """

    def __init__(self, ttl_seconds: int):
        self._known: TTLCache = TTLCache(maxsize=100_000, ttl=max(ttl_seconds, 0) or 0.001)
        self._unknown: TTLCache = TTLCache(maxsize=100_000, ttl=2)
        # cachetools caches are not thread-safe, and gunicorn's gthread workers share this one.
        self._lock = threading.Lock()

    def resolve(self, code: str) -> LinkTarget | None:
        with self._lock:
            target = self._known.get(code)
            if target is not None or code in self._unknown:
                return target
        target = self._load(code)
        with self._lock:
            if target is None:
                self._unknown[code] = True
            else:
                self._known[code] = target
        return target

    def forget(self) -> None:
        with self._lock:
            self._known.clear()
            self._unknown.clear()

    @staticmethod
    def _load(code: str) -> LinkTarget | None:
        row = db.session.execute(
            select(Link, Offer, Partner)
            .join(Offer, Link.offer_id == Offer.id)
            .join(Partner, Link.partner_id == Partner.id)
            .where(Link.code == code)
        ).first()
        if row is None:
            return None
        link, offer, partner = row
        return LinkTarget(
            link_id=link.id,
            partner_id=partner.id,
            offer_id=offer.id,
            landing_url=offer.landing_url,
            allowed_hosts=offer_allowed_hosts(offer),
            token_param=offer.token_param,
            active=offer.status == "active" and partner.status == "active",
            fallback_url=offer.fallback_url,
            default_subs=tuple(getattr(link, name) for name in SUB_IDS),
        )


def offer_allowed_hosts(offer: Offer) -> frozenset[str]:
    """Where a deep link on the offer may send a click: its landing page's host and the hosts it lists."""
    landing_host = urlsplit(offer.landing_url).hostname or ""
    return frozenset([landing_host.lower(), *offer.allowed_hosts])


def choose_destination(target: LinkTarget, deep_url: str | None) -> str:
    if deep_url is None or deep_url == "":
        return target.landing_url
    return checked_deep_link(deep_url, target.allowed_hosts)


def checked_deep_link(deep_url: str, allowed_hosts: frozenset[str]) -> str:
    """``deep_url`` when the redirect follows it, else DeepLinkRefused saying why (the link builder asks too)."""
    if len(deep_url) > MAX_URL_LENGTH or _NOT_IN_URL.search(deep_url):
        raise DeepLinkRefused("deep link is too long or has characters a URL cannot hold")
    parts = urlsplit(deep_url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise DeepLinkRefused("deep link must be an absolute http or https URL")
    if parts.username is not None or parts.password is not None:
        raise DeepLinkRefused("deep link must not carry a user name or password")
    host = parts.hostname.rstrip(".")
    if "%" in host or not host.isprintable():
        raise DeepLinkRefused("deep link host holds '%' or a control character")
    if not host_allowed(host, allowed_hosts):
        raise DeepLinkRefused(f"deep link host {host!r} is not one of this offer's allowed hosts")
    return deep_url


# Landing URLs repeat click after click; parsing each once keeps urlsplit off the click path.
_split = lru_cache(maxsize=4096)(urlsplit)


def with_token(url: str, param: str, token: str) -> str:
    """Add the token, keeping the URL's own query untouched and its fragment last.

    An earlier token under the same name (a forwarded landing URL used as a deep link) is replaced,
    so the landing page never sees two.
    """
    parts = _split(url)
    kept = [pair for pair in parts.query.split("&") if pair and pair.split("=", 1)[0] != param]
    kept.append(f"{param}={token}")
    return urlunsplit(parts._replace(query="&".join(kept)))
