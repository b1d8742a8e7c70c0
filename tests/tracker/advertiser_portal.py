"""What the advertiser portal's tests share: a signed-in advertiser with an offer, and another advertiser's."""

from __future__ import annotations

import html
import re

from core.db import db
from tests.core.people.helpers import form_token, make_person, sign_in
from tests.factories import AdvertiserFactory, OfferFactory
from tracker.attribution.models import Conversion
from tracker.program.models import Advertiser, Offer

ERROR = re.compile(r'<p class="error"[^>]*>([^<]+)</p>')


def signed_in_advertiser(client, email: str = "shop@people.example") -> Offer:
    """An advertiser signed in on ``client``; returns its first offer."""
    person = make_person("advertiser", email=email)
    advertiser = db.session.get(Advertiser, person.advertiser_id)
    offer = OfferFactory(advertiser=advertiser, name="Cloud CRM", slug=f"crm-{person.id}")
    sign_in(client, email)
    return offer


def foreign_offer() -> Offer:
    return OfferFactory(advertiser=AdvertiserFactory(name="Rival Vendor"), name="Rival Offer")


def conversion(offer: Offer, status: str = "review", **values) -> Conversion:
    row = Conversion(
        offer_id=offer.id,
        event=values.pop("event", "sale"),
        order_id=values.pop("order_id", f"ORDER-{status}-{offer.id}"),
        amount_minor=values.pop("amount_minor", 4990),
        currency=values.pop("currency", "EUR"),
        occurred_at=values.pop("occurred_at"),
        source="api",
        status=status,
        review_reasons=values.pop("review_reasons", ["ip_burst"] if status == "review" else []),
        attribution_notes={},
        **values,
    )
    db.session.add(row)
    db.session.commit()
    return row


def post_form(client, path: str, page: str, **data):
    return client.post(path, data={**data, "csrf_token": form_token(client, page)})


def errors_of(response) -> list[str]:
    return [html.unescape(error) for error in ERROR.findall(response.get_data(as_text=True))]
