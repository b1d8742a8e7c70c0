"""The demo's money side: a commission plan on the demo offer and a tax profile for each demo partner.

Added when ``flask --app app demo`` announces the demo (tracker.program.signals.demo_created), each only
if missing, through the same checks the API applies, so the demo's first sale accrues a commission and a
payout batch can pay every demo partner.
"""

from __future__ import annotations

from sqlalchemy import select

from core.db import db, utcnow
from payouts.commissions.models import CommissionPlan
from payouts.commissions.rules import parse_plan
from payouts.tax.models import TaxProfile
from payouts.tax.profiles import clean_profile, find_profile
from payouts.tax.schemas import TaxProfileIn
from tracker.program.models import Offer, Partner
from tracker.program.signals import demo_created

DEMO_PLAN = {"currency": "EUR", "events": {"lead": {"flat": "20.00"}, "sale": {"percent": "10"}}}
# Valid sample numbers (check digits pass python-stdnum), one regime per kind of partner in the demo.
DEMO_PROFILES = {
    "DE": {
        "kind": "company",
        "country": "DE",
        "tax_resident": True,
        "regime_code": "eu_domestic_vat",
        "vat_registered": True,
        "vat_number": "DE136695976",
        "regime_inputs": {"vat_country": "DE"},
        "iban": "DE89370400440532013000",
    },
    "FR": {
        "kind": "company",
        "country": "FR",
        "tax_resident": True,
        "regime_code": "eu_reverse_charge",
        "vat_registered": True,
        "vat_number": "FR40303265045",
        "iban": "FR1420041010050500013M02606",
    },
}


def add_demo_money(offer: Offer, *, partners: list[Partner], **_: object) -> None:
    if db.session.scalar(select(CommissionPlan.id).where(CommissionPlan.offer_id == offer.id)) is None:
        parse_plan(DEMO_PLAN)  # the API's check: a preset that stopped parsing fails the demo, loudly
        db.session.add(CommissionPlan(offer_id=offer.id, plan=DEMO_PLAN, updated_at=utcnow(), updated_by="demo"))
    for partner in partners:
        preset = DEMO_PROFILES.get(partner.country)
        if preset is None or find_profile(partner.id) is not None:
            continue
        submitted = TaxProfileIn.model_validate({**preset, "account_holder": partner.name}).model_dump()
        values = clean_profile(submitted, today=utcnow().date())
        db.session.add(TaxProfile(partner_id=partner.id, **values, updated_at=utcnow()))


def connect() -> None:
    demo_created.connect(add_demo_money)
