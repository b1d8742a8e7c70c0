"""Keys derived from the one secret, one per purpose, so a leak of one derived key exposes nothing else."""

import hashlib
import hmac


def derive_key(secret: str, purpose: str) -> bytes:
    return hmac.new(secret.encode(), b"handoff/" + purpose.encode(), hashlib.sha256).digest()
