"""/portal/offers/<id>/commission-plan: the advertiser edits its offer's plan, refused as the API refuses it."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from core.db import db
from payouts.commissions.models import CommissionPlan
from tests.core.people.conftest import cheap_hashes, compiled_catalogues, fresh_request_globals  # noqa: F401
from tests.core.people.helpers import form_token, make_person, sign_in
from tests.factories import auth
from tests.tracker.advertiser_portal import errors_of, foreign_offer, post_form, signed_in_advertiser

PLAN = {"currency": "EUR", "events": {"sale": {"percent": "8", "cap": {"period": "month", "count": 100}}}}


def stored(offer_id: int) -> CommissionPlan | None:
    db.session.rollback()
    return db.session.scalar(select(CommissionPlan).where(CommissionPlan.offer_id == offer_id))


def test_an_advertiser_sets_its_offers_plan(app, client):
    offer = signed_in_advertiser(client)
    path = f"/portal/offers/{offer.id}/commission-plan"
    first = client.get(path).get_data(as_text=True)
    assert "no commission plan yet" in first and "&#34;currency&#34;: &#34;EUR&#34;" in first
    response = post_form(client, path, path, plan=json.dumps(PLAN))
    assert response.status_code == 302 and response.headers["Location"] == f"{path}?saved=1"
    row = stored(offer.id)
    assert row is not None and row.plan == PLAN and row.updated_by.startswith("person #")
    api = app.test_client().get(
        f"/api/v1/offers/{offer.id}/commission-plan", headers=auth("advertiser", advertiser_id=offer.advertiser_id)
    )
    assert api.json["plan"] == PLAN
    assert "Plan saved." in client.get(f"{path}?saved=1").get_data(as_text=True)


@pytest.mark.parametrize(
    "text",
    [
        json.dumps({"currency": "EUR", "events": {"sale": {"percent": 8}}}),
        json.dumps({"currency": "EUR", "events": {}}),
        json.dumps({"currency": "EUR", "events": {"sale": {"percent": "8"}}, "bonus": "1"}),
        json.dumps(["not", "an", "object"]),
    ],
)
@pytest.mark.parametrize("app", ["sqlite"], indirect=True)
def test_a_bad_plan_shows_the_apis_message_and_stores_nothing(app, client, text):
    offer = signed_in_advertiser(client)
    path = f"/portal/offers/{offer.id}/commission-plan"
    response = post_form(client, path, path, plan=text)
    assert response.status_code == 422
    headers = auth("advertiser", advertiser_id=offer.advertiser_id)
    from_api = app.test_client().put(
        path.replace("/portal", "/api/v1"), json={"plan": json.loads(text)}, headers=headers
    )
    assert from_api.status_code in (400, 422)
    shown = errors_of(response)
    assert (
        len(shown) == 1 and shown[0] and shown[0] in json.dumps(from_api.json, ensure_ascii=False).replace('\\"', '"')
    )
    assert stored(offer.id) is None


@pytest.mark.parametrize("app", ["sqlite"], indirect=True)
def test_json_that_does_not_parse_is_refused(app, client):
    offer = signed_in_advertiser(client)
    path = f"/portal/offers/{offer.id}/commission-plan"
    response = post_form(client, path, path, plan='{"currency": "EUR",')
    assert response.status_code == 422 and "not valid JSON" in errors_of(response)[0]
    assert stored(offer.id) is None


@pytest.mark.parametrize("app", ["sqlite"], indirect=True)
def test_another_advertisers_offer_other_roles_strangers_and_csrf(app, client):
    offer = signed_in_advertiser(client)
    rival = foreign_offer()
    path = f"/portal/offers/{rival.id}/commission-plan"
    assert client.get(path).status_code == 404
    own = f"/portal/offers/{offer.id}/commission-plan"
    assert post_form(client, path, own, plan=json.dumps(PLAN)).status_code == 404
    assert client.post(own, data={"plan": json.dumps(PLAN)}).status_code == 400  # no CSRF token
    assert stored(rival.id) is None and stored(offer.id) is None

    assert app.test_client().get(own).headers["Location"].startswith("/login?next=")
    finance = app.test_client()
    make_person("finance")
    sign_in(finance, "finance@people.example")
    assert finance.get(own).status_code == 403
    token = form_token(finance, "/portal")
    assert finance.post(own, data={"plan": json.dumps(PLAN), "csrf_token": token}).status_code == 403
    assert stored(offer.id) is None
