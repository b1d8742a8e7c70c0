"""Ready snippets for an offer's advertiser: the landing helper tag, the pixel, and a server-to-server call.

The API key in the server-to-server example is never the real one: keys are stored only as hashes, so
the page shows the key's public prefix (or ``hk_``) followed by dots, for the advertiser to replace.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from sqlalchemy import select

from core.api.apikeys import ApiKey
from core.db import db
from tracker.attribution.signing import pixel_message
from tracker.program.api import pixel_setup
from tracker.program.models import Offer
from tracker.services import tracker

MASK = "•••••"


@dataclass(frozen=True)
class Snippets:
    landing_tag: str
    pixel_tag: str
    signed_script: str | None  # the API's signed-pixel snippet, when the offer signs its pixels
    signed_message: str | None
    server_call: str
    key_placeholder: str


def key_placeholder(advertiser_id: int) -> str:
    """The newest active key's public prefix, masked; ``hk_`` masked when the advertiser has none."""
    prefix = db.session.scalar(
        select(ApiKey.display_prefix)
        .where(ApiKey.advertiser_id == advertiser_id, ApiKey.revoked_at.is_(None))
        .order_by(ApiKey.id.desc())
        .limit(1)
    )
    return f"{prefix or 'hk_'}{MASK}"


def pixel_tag(base: str, offer: Offer) -> str:
    query = "event=sale&order_id={order_id}&amount={amount}&currency={currency}"
    if offer.pixel_signing:
        query += "&sig={sig}"
    return f'<img src="{base}/p/{offer.slug}.gif?{query}" width="1" height="1" alt="" style="display:none">'


def server_call(base: str, offer: Offer, placeholder: str) -> str:
    body = {
        "offer": offer.slug,
        "event": "sale",
        "order_id": "ORDER-1001",
        "amount": "49.90",
        "currency": "EUR",
        "token": "{token from the landing URL's " + offer.token_param + " parameter}",
    }
    return (
        f"curl -X POST {base}/api/v1/conversions \\\n"
        f'  -H "Authorization: Bearer {placeholder}" \\\n'
        '  -H "Content-Type: application/json" \\\n'
        f"  -d '{json.dumps(body, indent=None)}'"
    )


def offer_snippets(offer: Offer) -> Snippets:
    base = tracker().settings.public_base_url
    placeholder = key_placeholder(offer.advertiser_id)
    signed = offer.pixel_signing
    return Snippets(
        landing_tag=f'<script src="{base}/t.js" data-offer="{offer.slug}" async></script>',
        pixel_tag=pixel_tag(base, offer),
        signed_script=pixel_setup(offer).snippet if signed else None,
        signed_message=pixel_message(offer.slug, "sale", "{order_id}", "{amount}", "{currency}") if signed else None,
        server_call=server_call(base, offer, placeholder),
        key_placeholder=placeholder,
    )
