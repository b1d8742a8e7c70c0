"""``conversion_recorded`` receivers run inside the conversion's transaction: one that fails undoes it all.

"Stored" means committed, so the counts are read on a connection of their own: the test's session shares
the request's, and an uncommitted row would be visible to it.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select, text

from core.db import db
from tests.factories import OfferFactory, PartnerFactory, auth, expect, post_conversion
from tracker.attribution.models import PixelError
from tracker.attribution.signals import conversion_recorded
from tracker.postbacks.models import PostbackEndpoint

# Counted by table, which only a migration renames, so the test does not follow models between modules.
TABLES = {
    "conversions": "conversions",
    "events": "conversion_events",
    "ledger": "ledger_entries",
    "deliveries": "postback_deliveries",
    "pixel_errors": "pixel_errors",
}


def stored() -> dict[str, int]:
    with db.engine.connect() as connection:
        return {name: connection.scalar(text(f"SELECT count(*) FROM {table}")) for name, table in TABLES.items()}


class ReceiverFailed(RuntimeError):
    pass


def explode(conversion, **_):
    raise ReceiverFailed(f"receiver failed on conversion {conversion.id}")


@pytest.fixture
def program(app):
    """A priced offer and a partner with a coupon and a postback URL: a conversion stores all four kinds of row."""
    offer = OfferFactory(slug="signals")
    partner = PartnerFactory()
    client, admin = app.test_client(), auth("admin")
    expect(
        client.post(
            "/api/v1/coupons", headers=admin, json={"code": "SIG", "partner_id": partner.id, "offer_id": offer.id}
        ),
        201,
    )
    plan = {"currency": "EUR", "events": {"sale": {"percent": "10"}}}
    expect(client.put(f"/api/v1/offers/{offer.id}/commission-plan", json={"plan": plan}, headers=admin), 200)
    db.session.add(PostbackEndpoint(partner_id=partner.id, url_template="https://partner.example/pb?o={order_id}"))
    db.session.commit()
    return dict(client=client, vendor=auth("advertiser", advertiser_id=offer.advertiser_id), partner=partner)


def sale(program):
    return post_conversion(
        program["client"],
        program["vendor"],
        offer="signals",
        event="sale",
        order_id="S-1",
        amount="80.00",
        currency="EUR",
        coupon="SIG",
    )


NOTHING = dict.fromkeys(TABLES, 0)


def test_a_failing_receiver_rolls_back_the_conversion_its_commission_and_its_postback(program):
    with conversion_recorded.connected_to(explode):
        response = sale(program)
    assert response.status_code == 500
    assert response.json == {"error": "internal error; it has been logged", "status": 500}
    assert stored() == NOTHING
    db.session.remove()  # what the end of the request does in production: the transaction is discarded

    # Out of the block the receiver is disconnected: the same request now stores every kind of row the
    # failure undid, and the order id is free, so the first attempt left nothing behind.
    retried = expect(sale(program), 201)
    assert (retried["partner_id"], retried["attributed_by"]) == (program["partner"].id, "coupon")
    assert stored() == {**NOTHING, "conversions": 1, "events": 1, "ledger": 1, "deliveries": 1}


def test_a_failing_receiver_behind_the_pixel_still_answers_a_gif_and_stores_only_the_error(program):
    with conversion_recorded.connected_to(explode):
        response = program["client"].get("/p/signals.gif?event=sale&order_id=P-1&amount=80.00&currency=EUR&coupon=SIG")
    assert response.status_code == 200 and response.mimetype == "image/gif"
    assert stored() == {**NOTHING, "pixel_errors": 1}
    assert db.session.scalar(select(PixelError.reason)) == "internal error; it has been logged"
