"""The partner's dashboard shows the commissions the ledger accrued in its 30 days, by status, and EPC."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine

from core.db import db
from tests.core.people.conftest import cheap_hashes, compiled_catalogues, fresh_request_globals  # noqa: F401
from tests.core.people.helpers import make_person, sign_in
from tests.factories import LinkFactory
from tests.payouts.ledger_helpers import T0, Program, running_program
from tracker.program.models import Click

program = pytest.fixture(running_program)


def figure(page: str, element_id: str) -> str:
    found = re.search(rf'id="{element_id}">(.*?)</dd>', page, re.S)
    assert found, element_id
    # Babel puts a no-break space (or none) between a currency code and the amount.
    return re.sub(r"RUB\s*", "RUB ", re.sub(r"<[^>]+>", "", found.group(1)).replace("\xa0", " ")).strip()


def add_clicks(program: Program, partner_id: int, number: int) -> None:
    link_id = _link_of(program, partner_id)
    for n in range(number):
        db.session.add(
            Click(
                id=9000 + n,
                created_at=T0,
                link_id=link_id,
                offer_id=program.offer.id,
                partner_id=partner_id,
                ref_code=f"E{n:08d}",
                traffic="human",
                device="desktop",
                os="Windows",
                browser="Chrome",
                visitor_hash=f"{n:032d}",
                is_unique=True,
            )
        )
    db.session.commit()


def _link_of(program: Program, partner_id: int) -> int:
    return LinkFactory(offer=program.offer, partner_id=partner_id).id


def test_commissions_by_status_and_earnings_per_click(app, program):
    # 8% of each sale: 1,000.00 and 500.00 approved after a 5-day hold, 250.00 later still in its hold.
    program.offer.hold_days = 5
    db.session.commit()
    approved = program.convert("E-1", amount="1000.00", coupon="PLAIN")
    program.convert("E-2", amount="500.00", coupon="PLAIN")
    program.decide(approved, "approve")
    other = program.convert("E-3", amount="9000.00", coupon="GOLD")  # another partner's: never shown
    program.decide(other, "approve")
    add_clicks(program, program.plain.id, 4)
    make_person("partner", partner_id=program.plain.id)
    client = app.test_client()
    with time_machine.travel(T0 + timedelta(days=6), tick=False):
        program.approve_due()
        program.convert("E-4", amount="250.00", coupon="PLAIN")
        sign_in(client, "partner@people.example")
        page = client.get("/portal/dashboard").get_data(as_text=True)
    assert figure(page, "earned-approved") == "RUB 120.00"
    assert figure(page, "earned-pending") == "RUB 20.00"
    assert figure(page, "earned-paid") == "—"
    assert figure(page, "epc") == "RUB 35.00"  # 140.00 over 4 clicks
    assert "900.00" not in page


def test_nothing_earned_shows_dashes_not_zero_division(app, program):
    make_person("partner", partner_id=program.plain.id)
    client = app.test_client()
    sign_in(client, "partner@people.example")
    page = client.get("/portal/dashboard").get_data(as_text=True)
    assert figure(page, "earned-pending") == "—" and figure(page, "epc") == "—"
