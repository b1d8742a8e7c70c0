"""Host names: their shape, and the Public Suffix List that keeps an offer's allowed hosts someone's own.

A wildcard over a public suffix (``*.com``, ``*.co.uk``, ``*.github.io``) would let a deep link hand the
click token to any site anyone can register there, making the tracking domain an open redirect. The
list ships inside the ``publicsuffixlist`` package (pinned in requirements.txt): nothing is fetched at
run time, and a newer list comes with a newer pin.
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache

from publicsuffixlist import PublicSuffixList

_HOST = re.compile(r"(\*\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?")


def host_name(value: str) -> str:
    """``example.com`` or ``*.example.com``, lower-cased and IDNA-encoded; any other shape is a ValueError."""
    # '%' would be decoded by a browser into a host other than the one checked; control characters have
    # no place in a host, and stripping them silently would accept what the caller did not mean.
    if "%" in value or any(unicodedata.category(char) == "Cc" for char in value):
        raise ValueError(f"{value!r} is not a host name: it holds '%' or a control character")
    host = value.strip().lower().rstrip(".")
    try:
        host = host.encode("idna").decode() if not host.startswith("*.") else "*." + host[2:].encode("idna").decode()
    except UnicodeError:
        raise ValueError(f"{value!r} is not a host name") from None
    if not _HOST.fullmatch(host):
        raise ValueError(f"{value!r} is not a host name (use example.com or *.example.com)")
    return host


@cache
def _suffix_list() -> PublicSuffixList:
    # Parsed once per process on first use (some 40 ms), not at import.
    return PublicSuffixList()


def is_public_suffix(name: str) -> bool:
    """``com``, ``co.uk``, ``github.io``: a name on the list, under which anyone may register a domain."""
    return _suffix_list().is_public(name, accept_unknown=False)


def wildcard_too_broad(base: str) -> bool:
    """Whether ``*.<base>`` would cover domains that are not one owner's: a public suffix or any top-level label."""
    return "." not in base or is_public_suffix(base)


def allowed_host(value: str) -> str:
    """An offer's allowed host: ``host_name``, and never a public suffix nor a wildcard over one."""
    host = host_name(value)
    if host.startswith("*.") and wildcard_too_broad(host[2:]):
        raise ValueError(
            f"{host!r} covers every domain under the public suffix {host[2:]!r}: anyone could register one and "
            f"receive the click token; list your own domain (example.{host[2:]} or *.example.{host[2:]})"
        )
    if is_public_suffix(host):
        raise ValueError(f"{host!r} is a public suffix, not a domain anyone owns; list your own domain instead")
    return host
