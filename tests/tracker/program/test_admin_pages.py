"""/admin/partners and /admin/offers: the partners API's own rules, pause and resume, admins only."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from core.db import db
from tests.core.people.conftest import cheap_hashes, compiled_catalogues, fresh_request_globals  # noqa: F401
from tests.core.people.helpers import form_token, make_person, sign_in
from tests.factories import LinkFactory, OfferFactory, PartnerFactory
from tracker.program.models import Offer, Partner

NEW = {
    "name": "Northwind Deals",
    "contact_email": "deals@northwind.example",
    "kind": "affiliate",
    "country": "de",
    "tier": "gold",
    "parent_id": "",
    "status": "active",
}


def admin(client):
    make_person("admin")
    sign_in(client, "admin@people.example")
    return client


def partners() -> int:
    return db.session.scalar(select(func.count()).select_from(Partner))


def create(client, **changes):
    data = {**NEW, **changes, "csrf_token": form_token(client, "/admin/partners")}
    return client.post("/admin/partners", data=data)


def test_an_admin_adds_a_partner_under_a_parent_and_changes_it(app, client):
    distributor = PartnerFactory(name="Contoso Distribution", kind="distributor")
    admin(client)
    response = create(client, parent_id=str(distributor.id))
    assert response.status_code == 302
    partner = db.session.scalar(select(Partner).where(Partner.name == "Northwind Deals"))
    assert (partner.country, partner.tier, partner.parent_id) == ("DE", "gold", distributor.id)
    listing = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Partner Northwind Deals" in listing and "Contoso Distribution (#" in listing

    path = f"/admin/partners/{partner.id}"
    changed = {"tier": "platinum", "parent_id": "", "status": "suspended", "csrf_token": form_token(client, path)}
    assert client.post(path, data=changed).status_code == 302
    db.session.refresh(partner)
    assert (partner.tier, partner.parent_id, partner.status) == ("platinum", None, "suspended")
    assert partner.name == "Northwind Deals"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"country": "XX"}, "is not an ISO 3166 alpha-2 country code"),
        ({"tier": "Gold Tier"}, "String should match pattern"),
        ({"contact_email": "nobody"}, "value is not a valid email address"),
        ({"kind": "owner"}, "Not a valid choice"),
        ({"name": "Northwind\x07"}, "must not contain control characters"),
        ({"parent_id": "CHILD"}, "Not a valid choice"),  # only partners without a parent are offered
    ],
)
@pytest.mark.parametrize("app", ["sqlite"], indirect=True)
def test_what_the_api_refuses_the_page_refuses_beside_the_field(app, client, changes, message):
    parent = PartnerFactory()
    child = PartnerFactory(parent_id=parent.id)
    admin(client)
    if changes.get("parent_id") == "CHILD":
        changes = {"parent_id": str(child.id)}
    before = partners()
    response = create(client, **changes)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert 'class="error"' in page and message in page.replace("&#39;", "'")
    assert partners() == before


@pytest.mark.parametrize("app", ["sqlite"], indirect=True)
def test_a_parent_cannot_take_a_parent_nor_be_its_own(app, client):
    parent, other = PartnerFactory(), PartnerFactory()
    PartnerFactory(parent_id=parent.id)
    admin(client)
    for partner, parent_id, message in (
        (parent, other.id, "is a parent itself"),
        (other, other.id, "Not a valid choice"),
    ):
        path = f"/admin/partners/{partner.id}"
        data = {
            "tier": "standard",
            "parent_id": str(parent_id),
            "status": "active",
            "csrf_token": form_token(client, path),
        }
        response = client.post(path, data=data)
        assert response.status_code == 400 and message in response.get_data(as_text=True)
        db.session.refresh(partner)
        assert partner.parent_id is None


def test_an_admin_pauses_and_resumes_an_offer(app, client):
    link = LinkFactory(offer=OfferFactory(name="Spring Sale", allowed_hosts=["docs.example"]))
    admin(client)
    assert client.get(f"/c/{link.code}").status_code == 302
    listing = client.get("/admin/offers").get_data(as_text=True)
    assert "Spring Sale" in listing and "docs.example" in listing and link.offer.advertiser.name in listing
    path = f"/admin/offers/{link.offer_id}/status"
    response = client.post(path, data={"status": "paused", "csrf_token": form_token(client, "/admin/offers")})
    assert response.status_code == 302 and "is paused" in client.get(response.headers["Location"]).get_data(
        as_text=True
    )
    assert db.session.get(Offer, link.offer_id).status == "paused"
    assert client.get(f"/c/{link.code}").status_code == 410  # the worker's link cache forgot the offer
    client.post(path, data={"status": "active", "csrf_token": form_token(client, "/admin/offers")})
    db.session.expire_all()
    assert db.session.get(Offer, link.offer_id).status == "active"
    bad = client.post(path, data={"status": "deleted", "csrf_token": form_token(client, "/admin/offers")})
    assert bad.status_code == 400


@pytest.mark.parametrize("app", ["sqlite"], indirect=True)
def test_unknown_ids_are_404_and_forms_need_their_token(app, client):
    partner, offer = PartnerFactory(), OfferFactory()
    admin(client)
    assert client.get("/admin/partners/999").status_code == 404
    token = form_token(client, "/admin/offers")
    assert client.post("/admin/offers/999/status", data={"status": "paused", "csrf_token": token}).status_code == 404
    assert client.post("/admin/partners", data=NEW).status_code == 400
    assert client.post(f"/admin/partners/{partner.id}", data={"tier": "x", "status": "active"}).status_code == 400
    assert client.post(f"/admin/offers/{offer.id}/status", data={"status": "paused"}).status_code == 400
    assert partners() == 1 and db.session.get(Offer, offer.id).status == "active"


@pytest.mark.parametrize("role", ["partner", "advertiser", "finance"])
@pytest.mark.parametrize("app", ["sqlite"], indirect=True)
def test_other_roles_get_403_and_strangers_sign_in(app, client, role):
    offer = OfferFactory()
    assert client.get("/admin/partners").headers["Location"] == "/login?next=%2Fadmin%2Fpartners"
    person = make_person(role)
    sign_in(client, person.email)
    for path in ("/admin/partners", "/admin/offers", f"/admin/partners/{person.partner_id or 1}"):
        assert client.get(path).status_code == 403
    token = form_token(client, "/portal")
    assert client.post("/admin/partners", data={**NEW, "csrf_token": token}).status_code == 403
    assert (
        client.post(f"/admin/offers/{offer.id}/status", data={"status": "paused", "csrf_token": token}).status_code
        == 403
    )
    assert db.session.get(Offer, offer.id).status == "active"
