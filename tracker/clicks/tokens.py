"""Click tokens: a URL-safe, signed carrier of the click's id and time, verifiable without the database.

Layout before base64url: version (1 byte) | click id (8) | issued at, Unix seconds (4) | HMAC-SHA256
truncated to 12 bytes. 25 bytes make 34 characters. 96 bits of tag keep forgery out of reach while the
token stays short enough to survive being pasted into a CRM field.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import struct
from dataclasses import dataclass
from datetime import UTC, datetime

VERSION = 1
_BODY = struct.Struct(">BQI")
_TAG_BYTES = 12
TOKEN_LENGTH = 34


class InvalidToken(ValueError):
    """The token is malformed, altered, or signed with another key."""


@dataclass(frozen=True, slots=True)
class ClickClaims:
    click_id: int
    issued_at: int

    @property
    def issued_datetime(self) -> datetime:
        return datetime.fromtimestamp(self.issued_at, tz=UTC)


_keyed: dict[bytes, hmac.HMAC] = {}


def _tag(key: bytes, body: bytes) -> bytes:
    # Copying an HMAC already keyed skips re-deriving the inner and outer pads on every click.
    keyed = _keyed.get(key)
    if keyed is None:
        keyed = _keyed[key] = hmac.new(key, digestmod=hashlib.sha256)
    mac = keyed.copy()
    mac.update(body)
    return mac.digest()[:_TAG_BYTES]


def issue_token(key: bytes, click_id: int, issued_at: int) -> str:
    body = _BODY.pack(VERSION, click_id, issued_at)
    return base64.urlsafe_b64encode(body + _tag(key, body)).rstrip(b"=").decode()


def verify_token(key: bytes, token: str) -> ClickClaims:
    if not isinstance(token, str) or len(token) != TOKEN_LENGTH:
        raise InvalidToken("a click token is 34 characters")
    try:
        raw = base64.urlsafe_b64decode(token + "==")
    except (binascii.Error, ValueError):
        raise InvalidToken("not base64url") from None
    # Re-encoding must give back the same text: base64 tolerates changes in the last character's
    # unused bits, and an altered character must never still verify.
    if base64.urlsafe_b64encode(raw).rstrip(b"=").decode() != token:
        raise InvalidToken("not canonical base64url")
    body, tag = raw[: _BODY.size], raw[_BODY.size :]
    if not hmac.compare_digest(tag, _tag(key, body)):
        raise InvalidToken("signature does not match")
    version, click_id, issued_at = _BODY.unpack(body)
    if version != VERSION:
        raise InvalidToken(f"unknown token version {version}")
    return ClickClaims(click_id=click_id, issued_at=issued_at)
