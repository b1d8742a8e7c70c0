"""/portal/commissions: a partner's own commissions by status, paged, with totals and the balance on top."""

from __future__ import annotations

import re

import pytest
import time_machine
from sqlalchemy import update

from core.db import db
from payouts.ledger import pages
from tests.core.people.conftest import cheap_hashes, compiled_catalogues, fresh_request_globals  # noqa: F401
from tests.core.people.helpers import make_person, sign_in
from tests.factories import auth
from tests.payouts.ledger_helpers import HOLD, T0, running_program
from tracker.attribution.models import Conversion

ROW = re.compile(r'id="commission-(\d+)"')


@pytest.fixture
def program(app):
    yield from running_program(app)


def earned(program):
    """Plain: two sales approved (80.00 and 40.00 RUB), then one pending (20.00); gold: one sale of its own."""
    program.convert("P-1", amount="1000.00", coupon="PLAIN")
    program.convert("P-2", amount="500.00", coupon="PLAIN")
    program.convert("G-1", amount="7777.00", coupon="GOLD")  # 10% for gold: 777.70
    with time_machine.travel(T0 + HOLD, tick=False):
        program.approve_due()
        program.convert("P-3", amount="250.00", coupon="PLAIN")


def signed_in_plain(program, client):
    make_person("partner", email="plain@partner.example", partner_id=program.plain.id)
    sign_in(client, "plain@partner.example")


def listed_ids(page: str) -> list[int]:
    return [int(found) for found in ROW.findall(page)]


def test_a_partner_sees_its_commissions_totals_and_balance_as_the_api_does(program, client):
    earned(program)
    signed_in_plain(program, client)
    response = client.get("/portal/commissions")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'href="/portal/commissions" aria-current="page"' in page
    balance = page.split('id="balance-RUB"')[1].split("</tr>")[0]
    assert "RUB20.00" in balance and "RUB120.00" in balance  # pending, then approved and payable
    assert "RUB140.00" in page.split('id="total-RUB"')[1]  # every commission, any status
    own_key = auth("partner", partner_id=program.plain.id)
    api_ids = [item["id"] for item in program.commissions(headers=own_key)]
    assert listed_ids(page) == api_ids and len(api_ids) == 3
    # Gold's sale is nowhere on plain's page: not its row, amount, nor its balance.
    gold_ids = {item["id"] for item in program.commissions(partner_id=program.gold.id)}
    assert gold_ids and not gold_ids & set(listed_ids(page))
    assert "777.70" not in page


@pytest.mark.parametrize(
    ("status", "count", "total"), [("approved", 2, "RUB120.00"), ("pending", 1, "RUB20.00"), ("paid", 0, None)]
)
def test_the_status_filter_lists_and_totals_that_status_only(program, client, status, count, total):
    earned(program)
    signed_in_plain(program, client)
    page = client.get(f"/portal/commissions?status={status}").get_data(as_text=True)
    own = auth("partner", partner_id=program.plain.id)
    assert listed_ids(page) == [item["id"] for item in program.commissions(headers=own, status=status)]
    assert len(listed_ids(page)) == count
    assert f'<option value="{status}" selected>' in page
    if total:
        assert total in page.split('id="total-RUB"')[1]
    else:
        assert 'id="no-commissions"' in page and 'id="total-RUB"' not in page


def test_an_unknown_status_or_page_number_is_harmless(program, client):
    earned(program)
    signed_in_plain(program, client)
    page = client.get("/portal/commissions?status=<b>stolen</b>").get_data(as_text=True)
    assert len(listed_ids(page)) == 3 and "<b>stolen" not in page
    for wild in ("0", "-3", "many", str(10**30)):
        response = client.get(f"/portal/commissions?page={wild}")
        assert response.status_code == 200, wild


def test_pages_follow_one_another_and_keep_the_filter(program, client, monkeypatch):
    earned(program)
    signed_in_plain(program, client)
    monkeypatch.setattr(pages, "PAGE_SIZE", 2)
    first = client.get("/portal/commissions").get_data(as_text=True)
    second = client.get("/portal/commissions?page=2").get_data(as_text=True)
    assert len(listed_ids(first)) == 2 and len(listed_ids(second)) == 1
    assert not set(listed_ids(first)) & set(listed_ids(second))
    assert 'href="/portal/commissions?page=2"' in first and 'rel="prev"' not in first
    assert 'href="/portal/commissions?page=1"' in second and 'rel="next"' not in second
    assert "RUB140.00" in second.split('id="total-RUB"')[1]  # totals count every page
    filtered = client.get("/portal/commissions?status=approved").get_data(as_text=True)
    assert 'rel="next"' not in filtered
    monkeypatch.setattr(pages, "PAGE_SIZE", 1)
    filtered = client.get("/portal/commissions?status=approved").get_data(as_text=True)
    assert 'href="/portal/commissions?status=approved&amp;page=2"' in filtered


def test_a_partner_without_commissions_sees_an_empty_page(app, client):
    person = make_person("partner")
    sign_in(client, person.email)
    page = client.get("/portal/commissions").get_data(as_text=True)
    assert 'id="no-balance"' in page and 'id="no-commissions"' in page


@pytest.mark.parametrize("role", ["admin", "advertiser", "finance"])
@pytest.mark.parametrize("app", ["sqlite"], indirect=True)
def test_other_roles_get_403(app, client, role):
    person = make_person(role)
    sign_in(client, person.email)
    assert client.get("/portal/commissions").status_code == 403
    assert 'href="/portal/commissions"' not in client.get("/portal").get_data(as_text=True)


@pytest.mark.parametrize("app", ["sqlite"], indirect=True)
def test_anyone_not_signed_in_is_sent_to_sign_in(app, client):
    response = client.get("/portal/commissions?status=paid")
    assert response.status_code == 302
    assert response.headers["Location"] == "/login?next=%2Fportal%2Fcommissions%3Fstatus%3Dpaid"


def status_and_date(page: str, commission_id: int) -> tuple[str, str, str]:
    """The Event, Status and Approves-on cells of one commission's row, as text."""
    row = page.split(f'id="commission-{commission_id}"')[1].split("</tr>")[0]
    cells = [re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
    return cells[2], cells[5], cells[6]


def test_each_status_says_what_the_commission_waits_for(program, client):
    earned(program)
    lead = program.convert("P-4", event="lead", coupon="PLAIN")
    db.session.execute(update(Conversion).where(Conversion.id == lead).values(status="review"))
    db.session.commit()
    signed_in_plain(program, client)
    page = client.get("/portal/commissions").get_data(as_text=True)
    by_conversion = {item["conversion_id"]: item["id"] for item in program.commissions(partner_id=program.plain.id)}
    held_for_review, in_hold, *approved = by_conversion.values()  # newest first: P-4, P-3, then P-2 and P-1
    assert by_conversion[lead] == held_for_review
    # Held for review: the hold passing does not approve it, so no day is promised.
    assert status_and_date(page, held_for_review) == ("Lead", "Waits for the advertiser", "—")
    assert status_and_date(page, in_hold) == ("Sale", "In hold", "Aug 9, 2031")  # P-3 accrued at T0 + HOLD
    assert {status_and_date(page, commission) for commission in approved} == {("Sale", "Approved", "Jul 10, 2031")}
    assert ">pending<" not in page.split('id="commissions"')[1]  # the filter's own option list comes before
