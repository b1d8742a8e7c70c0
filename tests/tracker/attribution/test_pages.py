"""/portal/review and /portal/conversions: the advertiser decides on held conversions and lists all of its own."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from core.db import db
from tests.core.people.conftest import cheap_hashes, compiled_catalogues, fresh_request_globals  # noqa: F401
from tests.core.people.helpers import form_token, make_person, sign_in
from tests.factories import OfferFactory
from tests.tracker.advertiser_portal import conversion, errors_of, foreign_offer, post_form, signed_in_advertiser
from tracker.attribution.models import Conversion, ConversionEvent

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def status_of(conversion_id: int) -> str:
    db.session.rollback()
    return db.session.get(Conversion, conversion_id).status


def decide(client, conversion_id: int, action: str, reason: str = "", back: str = "/portal/review"):
    path = f"/portal/conversions/{conversion_id}/decide"
    return post_form(client, path, back, action=action, reason=reason, back=back)


def test_the_queue_lists_held_conversions_with_reasons_and_approves_one(app, client):
    offer = signed_in_advertiser(client)
    held = conversion(offer, review_reasons=["ip_burst", "amount_above_ceiling"], occurred_at=NOW)
    pending = conversion(offer, status="pending", order_id="P-1", occurred_at=NOW)
    rival = conversion(foreign_offer(), order_id="RIVAL-1", occurred_at=NOW)

    page = client.get("/portal/review").get_data(as_text=True)
    assert 'href="/portal/review"' in page and f'id="conversion-{held.id}"' in page
    assert "many conversions from one network" in page and "amount above the offer's review ceiling" in page
    assert f'id="conversion-{pending.id}"' not in page and "RIVAL-1" not in page
    assert f'id="conversion-{pending.id}"' in client.get("/portal/review?show=pending").get_data(as_text=True)

    response = decide(client, held.id, "approve", "Checked the order in our shop")
    assert response.status_code == 302
    assert response.headers["Location"] == f"/portal/review?done=approved&id={held.id}"
    assert status_of(held.id) == "approved"
    event = db.session.scalar(select(ConversionEvent).where(ConversionEvent.to_status == "approved"))
    assert event.reason == "Checked the order in our shop" and event.actor.startswith("person #")
    after = client.get(response.headers["Location"]).get_data(as_text=True)
    assert f'id="conversion-{held.id}"' not in after and f"Conversion #{held.id} is now approved." in after
    assert status_of(rival.id) == "review"


def test_reject_and_reverse_need_a_reason_as_in_the_api(app, client):
    offer = signed_in_advertiser(client)
    held = conversion(offer, occurred_at=NOW)
    refused = decide(client, held.id, "reject")
    assert refused.status_code == 422
    assert errors_of(refused) == ["a reason is required to reject a conversion"]
    assert status_of(held.id) == "review"

    assert decide(client, held.id, "reject", "Duplicate of order 7").status_code == 302
    assert status_of(held.id) == "rejected"
    again = decide(client, held.id, "approve", "changed my mind")
    assert again.status_code == 409 and "cannot approve a conversion that is rejected" in again.get_data(as_text=True)

    approved = conversion(offer, status="approved", order_id="A-1", occurred_at=NOW)
    back = "/portal/conversions?status=approved"
    assert decide(client, approved.id, "reverse", "", back=back).status_code == 422
    response = decide(client, approved.id, "reverse", "Refunded", back=back)
    assert response.headers["Location"] == f"/portal/conversions?status=approved&done=reversed&id={approved.id}"
    assert status_of(approved.id) == "reversed"


@pytest.mark.parametrize("app", ["sqlite"], indirect=True)
def test_an_unknown_action_is_refused(app, client):
    offer = signed_in_advertiser(client)
    held = conversion(offer, occurred_at=NOW)
    assert decide(client, held.id, "pay", "now").status_code == 422
    assert status_of(held.id) == "review"


def test_conversions_are_filtered_paged_and_totalled(app, client):
    offer = signed_in_advertiser(client)
    second = OfferFactory(advertiser=offer.advertiser, name="Cloud Mail")
    for number in range(55):
        conversion(
            offer,
            status="approved",
            order_id=f"S-{number}",
            amount_minor=1000,
            occurred_at=NOW - timedelta(hours=number),
        )
    conversion(
        offer, event="lead", order_id="L-1", amount_minor=None, currency=None, occurred_at=NOW - timedelta(days=5)
    )
    conversion(second, status="pending", order_id="M-1", amount_minor=250, currency="USD", occurred_at=NOW)
    conversion(foreign_offer(), order_id="RIVAL-1", amount_minor=99999, occurred_at=NOW)

    everything = client.get("/portal/conversions").get_data(as_text=True)
    assert "57 conversions" in everything and "RIVAL-1" not in everything
    assert "€550.00" in everything and "$2.50" in everything and "Page 1 of 2" in everything
    second_page = client.get("/portal/conversions?page=2").get_data(as_text=True)
    assert "Page 2 of 2" in second_page and "S-54" in second_page and "S-0<" not in second_page

    sales = client.get(f"/portal/conversions?status=approved&event=sale&offer={offer.id}").get_data(as_text=True)
    assert "55 conversions" in sales and "M-1" not in sales and "L-1" not in sales
    days = client.get("/portal/conversions?date_from=2026-11-15&date_to=2026-11-15").get_data(as_text=True)
    assert "1 conversion<" in days and "L-1" in days

    rival_filter = client.get(f"/portal/conversions?offer={foreign_offer().id}")
    assert rival_filter.status_code == 200 and "Not a valid choice" in rival_filter.get_data(as_text=True)
    assert "RIVAL-1" not in rival_filter.get_data(as_text=True)


def test_another_advertisers_conversion_is_404_and_untouched(app, client):
    signed_in_advertiser(client)
    rival = conversion(foreign_offer(), order_id="RIVAL-1", occurred_at=NOW)
    assert decide(client, rival.id, "approve", "mine now").status_code == 404
    assert decide(client, rival.id, "reject", "not yours").status_code == 404
    assert status_of(rival.id) == "review"


@pytest.mark.parametrize("app", ["sqlite"], indirect=True)
def test_other_roles_403_strangers_sent_to_sign_in_and_csrf_required(app, client):
    offer = signed_in_advertiser(client)
    held = conversion(offer, occurred_at=NOW)
    no_token = client.post(f"/portal/conversions/{held.id}/decide", data={"action": "approve", "reason": "ok"})
    assert no_token.status_code == 400 and status_of(held.id) == "review"

    stranger = app.test_client()
    assert stranger.get("/portal/review").headers["Location"] == "/login?next=%2Fportal%2Freview"
    assert stranger.get("/portal/conversions").headers["Location"].startswith("/login")
    partner = app.test_client()
    make_person("partner")
    sign_in(partner, "partner@people.example")
    assert partner.get("/portal/review").status_code == 403
    assert partner.get("/portal/conversions").status_code == 403
    token = form_token(partner, "/portal")
    data = {"action": "approve", "reason": "ok", "csrf_token": token}
    assert partner.post(f"/portal/conversions/{held.id}/decide", data=data).status_code == 403
    assert status_of(held.id) == "review"


@pytest.mark.parametrize("app", ["sqlite"], indirect=True)
def test_the_unfiltered_list_shows_no_filter_errors(app, client):
    signed_in_advertiser(client)
    assert errors_of(client.get("/portal/conversions")) == []
    assert errors_of(client.get("/portal/conversions?status=approved")) == []
