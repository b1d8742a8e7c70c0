"""A click as the click path sees it: its id, its visitor's minimised identity, and its wire format."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import secrets
from dataclasses import dataclass, fields
from datetime import UTC, datetime, timedelta

from core.keys import derive_key

# Ids are milliseconds since 2024-01-01 in the high bits and 22 random bits below: sortable by time,
# unique without coordination between nodes (a clash needs two clicks in one millisecond to draw the
# same 22 bits), and they fit PostgreSQL's signed BIGINT for another 69 years.
_ID_EPOCH_MS = 1_704_067_200_000
_RANDOM_BITS = 22


def new_click_id(now_ms: int) -> int:
    return ((now_ms - _ID_EPOCH_MS) << _RANDOM_BITS) | secrets.randbits(_RANDOM_BITS)


def click_id_time(click_id: int) -> datetime:
    millis = (click_id >> _RANDOM_BITS) + _ID_EPOCH_MS
    return datetime.fromtimestamp(millis / 1000, tz=UTC)


def ip_prefix(address: str | None) -> str | None:
    """Truncate to /24 or /48: enough to see a burst from one network, not enough to find a person."""
    if not address:
        return None
    octets = address.split(".")
    if len(octets) == 4 and all(o.isdigit() and len(o) <= 3 and int(o) <= 255 for o in octets):
        # The click path's common case, without building ipaddress objects.
        return f"{int(octets[0])}.{int(octets[1])}.{int(octets[2])}.0/24"
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return None
    prefix = 24 if ip.version == 4 else 48
    return str(ipaddress.ip_network(f"{ip}/{prefix}", strict=False))


class VisitorHasher:
    """Keyed hash of address and user agent under a salt that changes each UTC day.

    A stored hash cannot be linked to the same visitor on another day. Unique clicks look back 24 hours,
    so each click also carries its visitor's hash under yesterday's salt, used for that check only.
    """

    def __init__(self, secret: str):
        self._secret = secret
        self._keyed: dict[object, tuple] = {}

    def _keyed_hmacs(self, today) -> tuple:
        """HMAC objects already keyed for today and yesterday; copying one is cheaper than keying."""
        keyed = self._keyed.get(today)
        if keyed is None:
            self._keyed.clear()
            keyed = self._keyed[today] = tuple(
                hmac.new(derive_key(self._secret, f"visitor/{day.isoformat()}"), digestmod=hashlib.sha256)
                for day in (today, today - timedelta(days=1))
            )
        return keyed

    def hashes(self, address: str | None, user_agent: str, when: datetime) -> tuple[str, str]:
        material = f"{address or ''}\n{user_agent}".encode()
        hashes = []
        for keyed in self._keyed_hmacs(when.date()):
            digest = keyed.copy()
            digest.update(material)
            hashes.append(digest.hexdigest()[:32])
        return hashes[0], hashes[1]


@dataclass(slots=True)
class ClickRecord:
    id: int
    created_ms: int
    link_id: int
    offer_id: int
    partner_id: int
    traffic: str
    device: str
    os: str
    browser: str
    visitor_hash: str
    visitor_hash_prev: str
    ip_prefix: str | None = None
    sub1: str | None = None
    sub2: str | None = None
    sub3: str | None = None
    sub4: str | None = None
    sub5: str | None = None
    deep_link: str | None = None
    referrer_host: str | None = None

    @property
    def created_at(self) -> datetime:
        return datetime.fromtimestamp(self.created_ms / 1000, tz=UTC)

    def to_stream(self) -> dict[str, str]:
        # One field holding a JSON array in declared order: far cheaper for the click path to encode
        # than one stream field per attribute.
        return {"c": json.dumps([getattr(self, name) for name in _FIELD_NAMES], separators=(",", ":"))}

    @classmethod
    def from_stream(cls, entry: dict) -> ClickRecord:
        """Rebuild a record from a stream entry; raises ValueError/KeyError on a malformed one."""
        raw = entry.get(b"c", entry.get("c"))
        if raw is None:
            raise KeyError("stream entry has no click")
        values = json.loads(raw)
        if not isinstance(values, list) or len(values) != len(_FIELD_NAMES):
            raise ValueError("stream entry does not hold a click of this version")
        record = cls(**dict(zip(_FIELD_NAMES, values, strict=True)))
        for name in _INT_FIELDS:
            if not isinstance(getattr(record, name), int):
                raise ValueError(f"stream entry has a non-integer {name}")
        missing = [name for name in _REQUIRED_FIELDS if getattr(record, name) is None]
        if missing:
            raise KeyError(f"stream entry lacks {', '.join(missing)}")
        return record


_FIELD_NAMES = tuple(spec.name for spec in fields(ClickRecord))
_INT_FIELDS = ("id", "created_ms", "link_id", "offer_id", "partner_id")
_REQUIRED_FIELDS = (
    "id",
    "created_ms",
    "link_id",
    "offer_id",
    "partner_id",
    "traffic",
    "device",
    "os",
    "browser",
    "visitor_hash",
    "visitor_hash_prev",
)
