"""The B2B chain end to end: a click, a forwarded landing URL, a lead, sales by reference code and by a
colleague's email, a sale after the window, and a forged token."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import time_machine
from sqlalchemy import func, select

from core.db import db
from tests.factories import LinkFactory, OfferFactory, PartnerFactory, auth, expect, post_conversion
from tests.tracker.helpers import click
from tracker.attribution.models import Conversion, CustomerBinding

T0 = datetime(2031, 5, 4, 9, 0, tzinfo=UTC)


def at(days: float = 0, hours: float = 0):
    return time_machine.travel(T0 + timedelta(days=days, hours=hours), tick=False)


def test_the_whole_chain_from_click_to_late_sale(app):
    offer = OfferFactory(slug="erp", click_window_days=90, lead_window_days=365)
    reseller = PartnerFactory(name="Contoso Systems", contact_email="sales@contoso-systems.example")
    LinkFactory(code="erp-res", partner=reseller, offer=offer)
    vendor = auth("advertiser", advertiser_id=offer.advertiser_id)
    initiator = app.test_client()

    with at():
        landing_url = click(initiator, "erp-res").headers["Location"]
    token = parse_qs(urlsplit(landing_url).query)["atk"][0]

    # The initiator forwards the landing URL; the colleague's browser shares nothing with the first.
    colleague = app.test_client()
    with at(hours=2):
        reference = colleague.get("/t/ref", query_string={"atk": token}).json["ref"]
        lead = post_conversion(
            colleague,
            vendor,
            offer="erp",
            event="lead",
            order_id="LEAD-1",
            token=token,
            customer={"email": "Anna.Schmidt@Fabrikam-Industries.example"},
        )
    assert lead.status_code == 201
    assert (lead.json["partner_id"], lead.json["attributed_by"]) == (reseller.id, "token")
    assert db.session.scalar(select(func.count()).select_from(CustomerBinding)) == 2  # email and domain

    with at(days=30):  # the buyer reads the reference code out on the phone, badly
        spoken = reference.lower().replace("0", "o").replace("1", "l").replace("-", " ")
        sale = post_conversion(
            colleague,
            vendor,
            offer="erp",
            event="sale",
            order_id="INV-100",
            amount="12000.00",
            currency="EUR",
            ref_code=spoken,
        )
    assert (sale.json["partner_id"], sale.json["attributed_by"], sale.json["amount"]) == (
        reseller.id,
        "ref_code",
        "12000.00",
    )

    with at(days=40):  # the accountant of the same company orders again from another mailbox
        second = post_conversion(
            colleague,
            vendor,
            offer="erp",
            event="sale",
            order_id="INV-101",
            amount="800",
            currency="EUR",
            customer={"email": "bob.weber@fabrikam-industries.example"},
        )
    assert (second.json["partner_id"], second.json["attributed_by"]) == (reseller.id, "customer")

    with at(days=400):  # past the click window and the lead-to-sale window: nobody gets it
        late = post_conversion(
            colleague,
            vendor,
            offer="erp",
            event="sale",
            order_id="INV-102",
            amount="500",
            currency="EUR",
            token=token,
            customer={"email": "bob.weber@fabrikam-industries.example"},
        )
    assert late.status_code == 201
    assert (late.json["partner_id"], late.json["attributed_by"]) == (None, None)
    assert "90-day click window" in late.json["attribution_notes"]["refused"][0]["reason"]

    forged = token[:-1] + ("A" if token[-1] != "A" else "B")
    with at(days=31):
        fake = post_conversion(
            colleague, vendor, offer="erp", event="sale", order_id="INV-103", amount="1", currency="EUR", token=forged
        )
    assert fake.json["partner_id"] is None
    assert fake.json["attribution_notes"]["refused"][0]["carrier"] == "token"
    assert "invalid token" in fake.json["attribution_notes"]["refused"][0]["reason"]

    assert db.session.scalar(select(func.count()).select_from(Conversion)) == 5


def test_public_mail_providers_never_make_a_company_binding(app):
    offer = OfferFactory(slug="crm")
    partner = PartnerFactory()
    LinkFactory(code="crm-1", partner=partner, offer=offer)
    vendor = auth("advertiser", advertiser_id=offer.advertiser_id)
    client = app.test_client()
    with at():
        token = parse_qs(urlsplit(click(client, "crm-1").headers["Location"]).query)["atk"][0]
    with at(hours=1):
        lead = post_conversion(
            client,
            vendor,
            offer="crm",
            event="lead",
            order_id="L1",
            token=token,
            customer={"email": "someone@gmail.com"},
        )
        other = post_conversion(
            client,
            vendor,
            offer="crm",
            event="sale",
            order_id="S1",
            amount="10",
            currency="EUR",
            customer={"email": "another.person@gmail.com"},
        )
    assert expect(lead, 201)["partner_id"] == partner.id
    # The lead binds its own address, but gmail.com is nobody's company: no domain binding.
    bindings = db.session.execute(
        select(CustomerBinding.key_type, CustomerBinding.key_value, CustomerBinding.partner_id)
    ).all()
    assert bindings == [("email", "someone@gmail.com", partner.id)]
    assert expect(other, 201)["partner_id"] is None and other.json["attributed_by"] is None
