"""/portal/offers: an advertiser lists, creates, pauses and edits its own offers and copies their snippets."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from core.db import db
from tests.core.people.conftest import cheap_hashes, compiled_catalogues, fresh_request_globals  # noqa: F401
from tests.core.people.helpers import form_token, make_person, sign_in
from tests.factories import auth
from tests.tracker.advertiser_portal import errors_of, foreign_offer, post_form, signed_in_advertiser
from tracker.program.models import Offer

NEW_OFFER = {
    "name": "Cloud ERP",
    "slug": "cloud-erp",
    "landing_url": "https://erp.example/welcome",
    "allowed_hosts": "docs.erp.example\n*.erp.example",
    "click_window_days": "30",
    "lead_window_days": "180",
    "hold_days": "14",
}


def offer_count() -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(Offer)) or 0


def test_lists_only_its_own_offers_and_creates_one(app, client):
    offer = signed_in_advertiser(client)
    rival = foreign_offer()
    listing = client.get("/portal/offers").get_data(as_text=True)
    assert 'href="/portal/offers"' in listing and offer.name in listing
    assert rival.name not in listing and f"/portal/offers/{rival.id}" not in listing

    response = post_form(client, "/portal/offers", "/portal/offers", **NEW_OFFER)
    assert response.status_code == 302
    created = db.session.scalar(select(Offer).where(Offer.slug == "cloud-erp"))
    assert created is not None and created.advertiser_id == offer.advertiser_id
    assert response.headers["Location"] == f"/portal/offers/{created.id}?done=created"
    assert created.allowed_hosts == ["docs.erp.example", "*.erp.example"]
    assert (created.click_window_days, created.lead_window_days, created.hold_days) == (30, 180, 14)


@pytest.mark.parametrize(
    "values, field_message",
    [
        ({"slug": "Not A Slug"}, "String should match pattern"),
        ({"landing_url": "ftp://erp.example"}, "must be an absolute http or https URL"),
        ({"allowed_hosts": "*.com"}, "covers every domain under the public suffix 'com'"),
        ({"click_window_days": "0"}, "Input should be greater than or equal to 1"),
        ({"lead_window_days": "soon"}, "Input should be a valid integer"),
    ],
)
@pytest.mark.parametrize("app", ["sqlite"], indirect=True)
def test_bad_input_says_what_the_api_says_and_writes_nothing(app, client, values, field_message):
    signed_in_advertiser(client)
    before = offer_count()
    response = post_form(client, "/portal/offers", "/portal/offers", **(NEW_OFFER | values))
    assert response.status_code == 400
    assert any(field_message in error for error in errors_of(response)), errors_of(response)
    assert offer_count() == before

    api = app.test_client()
    body = {**NEW_OFFER, "allowed_hosts": NEW_OFFER["allowed_hosts"].split("\n"), **values}
    if "allowed_hosts" in values:
        body["allowed_hosts"] = [values["allowed_hosts"]]
    refused = api.post("/api/v1/offers", json=body, headers=auth("admin")).get_json()
    assert field_message in str(refused)


def test_a_taken_slug_is_refused_next_to_the_field(app, client):
    offer = signed_in_advertiser(client)
    response = post_form(client, "/portal/offers", "/portal/offers", **(NEW_OFFER | {"slug": offer.slug}))
    assert response.status_code == 409
    assert errors_of(response) == [f"an offer with slug '{offer.slug}' already exists"]


def test_pause_resume_and_edit_hosts_and_windows(app, client):
    offer = signed_in_advertiser(client)
    page = f"/portal/offers/{offer.id}"
    response = post_form(client, f"{page}/status", page, status="paused")
    assert response.headers["Location"] == f"{page}?done=paused"
    assert db.session.get(Offer, offer.id).status == "paused"
    assert "Resume offer" in client.get(page).get_data(as_text=True)
    post_form(client, f"{page}/status", page, status="active")
    assert db.session.get(Offer, offer.id).status == "active"

    settings = {
        "allowed_hosts": "help.shop.example, *.shop.example",
        "click_window_days": "45",
        "lead_window_days": "400",
    }
    assert post_form(client, f"{page}/settings", page, **settings).status_code == 302
    db.session.refresh(offer)
    assert offer.allowed_hosts == ["help.shop.example", "*.shop.example"]
    assert (offer.click_window_days, offer.lead_window_days) == (45, 400)

    refused = post_form(
        client, f"{page}/settings", page, **(settings | {"allowed_hosts": "co.uk", "click_window_days": "9999"})
    )
    assert refused.status_code == 400
    assert any("is a public suffix" in error for error in errors_of(refused))
    assert any("less than or equal to 3650" in error for error in errors_of(refused))
    db.session.refresh(offer)
    assert offer.allowed_hosts == ["help.shop.example", "*.shop.example"] and offer.click_window_days == 45


@pytest.mark.parametrize("app", ["sqlite"], indirect=True)
def test_snippets_are_filled_with_the_offer_and_never_hold_a_key(app, client):
    offer = signed_in_advertiser(client)
    headers = auth("advertiser", advertiser_id=offer.advertiser_id)
    plaintext = headers["Authorization"].removeprefix("Bearer ")
    page = client.get(f"/portal/offers/{offer.id}").get_data(as_text=True)
    assert f"data-offer=&#34;{offer.slug}&#34;" in page and "/t.js" in page
    assert f"/p/{offer.slug}.gif?event=sale&amp;order_id={{order_id}}" in page
    assert "sig={sig}" not in page and offer.pixel_secret not in page
    assert "/api/v1/conversions" in page and f"&#34;offer&#34;: &#34;{offer.slug}&#34;" in page
    assert plaintext not in page and f"Bearer {plaintext[:12]}•••••" in page
    assert 'id="key-note"' in page and "Paste the key you were given" in page

    offer.pixel_signing = True
    db.session.commit()
    signed = client.get(f"/portal/offers/{offer.id}").get_data(as_text=True)
    assert "&amp;sig={sig}" in signed
    message = f"{offer.slug}|sale|{{order_id}}|{{amount}}|{{currency}}"
    assert f'<pre id="signed-message" class="message"><code>{message}</code></pre>' in signed  # a block of its own
    assert offer.pixel_secret in signed  # inside the collapsed "Show the pixel secret"
    assert "Handoff.convert" in signed


def test_another_advertisers_offer_is_404(app, client):
    signed_in_advertiser(client)
    rival = foreign_offer()
    page = "/portal/offers"
    assert client.get(f"/portal/offers/{rival.id}").status_code == 404
    assert post_form(client, f"/portal/offers/{rival.id}/status", page, status="paused").status_code == 404
    settings = {"allowed_hosts": "", "click_window_days": "1", "lead_window_days": "1"}
    assert post_form(client, f"/portal/offers/{rival.id}/settings", page, **settings).status_code == 404
    db.session.refresh(rival)
    assert rival.status == "active" and rival.click_window_days == 90


@pytest.mark.parametrize("app", ["sqlite"], indirect=True)
def test_other_roles_403_strangers_sent_to_sign_in_and_csrf_required(app, client):
    offer = signed_in_advertiser(client)
    refused = client.post(f"/portal/offers/{offer.id}/status", data={"status": "paused"})
    assert refused.status_code == 400
    assert db.session.get(Offer, offer.id).status == "active"

    stranger = app.test_client()
    assert stranger.get("/portal/offers").headers["Location"] == "/login?next=%2Fportal%2Foffers"
    partner = app.test_client()
    make_person("partner")
    sign_in(partner, "partner@people.example")
    assert partner.get("/portal/offers").status_code == 403
    token = form_token(partner, "/portal")
    assert (
        partner.post(f"/portal/offers/{offer.id}/status", data={"status": "paused", "csrf_token": token}).status_code
        == 403
    )
    assert db.session.get(Offer, offer.id).status == "active"
