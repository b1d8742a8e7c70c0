"""Signed pixels: the advertiser's page vouches for the order and its amount with the offer's pixel secret.

A pixel is a URL any browser can fire, so its amount is whatever the caller wrote. An advertiser whose
thank-you page is rendered by its own server can sign what it sends: ``sig`` is the lowercase hex
HMAC-SHA256, keyed with the offer's ``pixel_secret`` (its text as UTF-8), of

    offer_slug|event|order_id|amount|currency

each the query parameter exactly as sent, an absent one as the empty string, and an absent or empty
event as "lead" (what the pixel records then, and what t.js sends). The event is signed too: otherwise a
signed sale could be fired again as a lead, a different conversion with its own commission. The click
token is not signed; the page's server usually never sees it, and it decides who is paid, not how much.
"""

from __future__ import annotations

import hashlib
import hmac


def pixel_message(offer_slug: str, event: str, order_id: str, amount: str, currency: str) -> str:
    return "|".join((offer_slug, event or "lead", order_id, amount, currency))


def pixel_signature(secret: str, offer_slug: str, event: str, order_id: str, amount: str, currency: str) -> str:
    message = pixel_message(offer_slug, event, order_id, amount, currency)
    return hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()


def signature_matches(secret: str, signature: str, **fields: str) -> bool:
    """Compared in constant time, so response timing tells a forger nothing about a correct prefix."""
    expected = pixel_signature(secret, **fields)
    return hmac.compare_digest(expected.encode(), signature.strip().lower().encode(errors="replace"))
