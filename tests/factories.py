"""Test data factories for the program's objects, plus API key headers and response checks."""

from __future__ import annotations

import factory
from factory.alchemy import SQLAlchemyModelFactory

from core.api.apikeys import issue_key
from core.db import db
from tracker.program.models import Advertiser, Link, Offer, Partner


class Base(SQLAlchemyModelFactory):
    class Meta:
        abstract = True
        sqlalchemy_session_factory = lambda: db.session  # noqa: E731
        sqlalchemy_session_persistence = "commit"


class AdvertiserFactory(Base):
    class Meta:
        model = Advertiser

    name = factory.Sequence(lambda n: f"Vendor {n}")
    contact_email = factory.Sequence(lambda n: f"partners{n}@vendor.example")


class OfferFactory(Base):
    class Meta:
        model = Offer

    advertiser = factory.SubFactory(AdvertiserFactory)
    slug = factory.Sequence(lambda n: f"offer-{n}")
    name = factory.Sequence(lambda n: f"Offer {n}")
    landing_url = "https://shop.example/landing?utm_source=partners#top"
    allowed_hosts = factory.LazyFunction(lambda: ["docs.example", "*.shop.example"])
    token_param = "atk"
    status = "active"


class PartnerFactory(Base):
    class Meta:
        model = Partner

    name = factory.Sequence(lambda n: f"Partner {n}")
    contact_email = factory.Sequence(lambda n: f"partner{n}@partner.example")
    kind = "affiliate"
    country = "DE"
    tier = "standard"
    status = "active"


class LinkFactory(Base):
    class Meta:
        model = Link

    code = factory.Sequence(lambda n: f"link{n:04d}")
    partner = factory.SubFactory(PartnerFactory)
    offer = factory.SubFactory(OfferFactory)


def auth(role: str, **scope) -> dict[str, str]:
    _, plaintext = issue_key(role, **scope)
    db.session.commit()
    return {"Authorization": f"Bearer {plaintext}"}


def post_conversion(client, headers, **body):
    return client.post("/api/v1/conversions", json=body, headers=headers)


def expect(response, status: int):
    """The response's JSON once its status is the expected one, so a setup step that fails stops the test there."""
    assert response.status_code == status, (response.status_code, response.get_json(silent=True))
    return response.json
