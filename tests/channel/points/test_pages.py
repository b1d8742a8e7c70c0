"""/portal/points (a partner's balance, entries, handing points to its people) and /portal/points-fund (finance)."""

from __future__ import annotations

import html
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from channel.points.balances import balance
from channel.points.ledger import accrue, add_months, adjust, release_due
from channel.points.models import PointsEntry
from core.db import db, utcnow
from core.money import format_money
from tests.core.people.conftest import cheap_hashes, compiled_catalogues, fresh_request_globals  # noqa: F401
from tests.core.people.helpers import form_token, make_person, sign_in

pytestmark = pytest.mark.usefixtures("compiled_catalogues")


def earn(partner, points, line, *, days_ago: int = 1, released: bool = False) -> None:
    occurred = utcnow() - timedelta(days=days_ago)
    accrue(partner.id, points, "sellout_line", line, occurred, "sell-out upload #1")
    db.session.commit()
    if released:
        release_due()


def expiring_in(days: int) -> int:
    """How many days ago a sale happened whose points expire in ``days`` (the fund keeps them 24 months)."""
    now = utcnow()
    return (now - add_months(now, -24)).days - days


def signed_in(client, partner, email="boss@acme.example"):
    make_person("partner", email=email, partner_id=partner.id)
    sign_in(client, email)
    return client


def page_of(client, path="/portal/points") -> str:
    response = client.get(path)
    assert response.status_code == 200, response.status_code
    return html.unescape(response.get_data(as_text=True))


def entry_count() -> int:
    return db.session.scalar(select(func.count()).select_from(PointsEntry)) or 0


def hand(client, person_id, points, reason="", token=None):
    data = {"person_id": str(person_id), "points": str(points), "reason": reason}
    data["csrf_token"] = token or form_token(client, "/portal/points")
    return client.post("/portal/points/transfer", data=data)


def test_a_partner_sees_its_balance_what_expires_soon_and_its_entries(points, client):
    earn(points.acme, 120, 1, days_ago=expiring_in(10), released=True)
    earn(points.acme, 30, 2)
    adjust(points.other.id, 777, "rival welcome bonus", "admin")
    db.session.commit()
    page = page_of(signed_in(client, points.acme))
    assert 'id="available">120<' in page and 'id="pending">30<' in page and 'id="held">0<' in page
    assert 'id="expiring" class="expiring-soon"' in page and 'id="expiry-notice"' in page
    assert "120 points expire on" in page
    assert "Earned" in page and "Return window passed" in page and "<td>released</td>" not in page
    assert "rival welcome bonus" not in page and "777" not in page


def test_points_expiring_after_the_notice_days_are_not_highlighted(points, client):
    earn(points.acme, 40, 1, days_ago=expiring_in(45), released=True)
    page = page_of(signed_in(client, points.acme))
    assert 'id="expiring"><dt>' in page and "expiry-notice" not in page


def test_a_partner_hands_points_to_one_of_its_people(points, client):
    earn(points.acme, 120, 1, days_ago=20, released=True)
    rep = make_person("partner", email="rep@acme.example", partner_id=points.acme.id)
    make_person("partner", email="rep@other.example", partner_id=points.other.id)
    signed_in(client, points.acme)
    page = page_of(client)
    assert "rep@acme.example" in page and "rep@other.example" not in page
    response = hand(client, rep.id, 50, "for the March deals")
    assert response.status_code == 303 and response.headers["Location"] == f"/portal/points?handed=50&to={rep.id}"
    company, person = balance(points.acme.id), balance(points.acme.id, rep.id)
    assert (company.available, company.held_by_people, person.available) == (70, 50, 50)
    assert client.get("/portal/points/transfer").headers["Location"] == "/portal/points"  # the language switch
    page = page_of(client, response.headers["Location"])
    assert "50 points handed to rep@acme.example." in page
    assert 'id="available">70<' in page and 'id="held">50<' in page
    assert "Handed to a person" in page and "Received from the company" in page and "for the March deals" in page


@pytest.mark.parametrize(
    ("points_text", "whose", "message"),
    [
        ("0", "ours", "Input should be greater than or equal to 1"),
        ("ten", "ours", "Input should be a valid integer, unable to parse string as an integer"),
        ("1000", "ours", "only 120 points available, 1000 asked"),
        ("10", "theirs", "is not one of partner"),
    ],
)
def test_a_refused_transfer_says_why_in_the_apis_words_and_writes_nothing(points, client, points_text, whose, message):
    earn(points.acme, 120, 1, days_ago=20, released=True)
    ours = make_person("partner", email="rep@acme.example", partner_id=points.acme.id)
    theirs = make_person("partner", email="rep@other.example", partner_id=points.other.id)
    signed_in(client, points.acme)
    before = entry_count()
    response = hand(client, (ours if whose == "ours" else theirs).id, points_text)
    assert response.status_code == 422
    page = html.unescape(response.get_data(as_text=True))
    assert message in page
    assert 'id="points-error"' in page  # next to the points field
    assert entry_count() == before and balance(points.acme.id).available == 120
    assert "rep@other.example" not in page


def test_a_transfer_without_its_csrf_token_is_refused(points, client):
    earn(points.acme, 120, 1, days_ago=20, released=True)
    rep = make_person("partner", email="rep@acme.example", partner_id=points.acme.id)
    signed_in(client, points.acme)
    before = entry_count()
    response = client.post("/portal/points/transfer", data={"person_id": str(rep.id), "points": "5"})
    assert response.status_code == 400
    assert entry_count() == before


@pytest.mark.parametrize("app", ["sqlite"], indirect=True)
def test_strangers_are_sent_to_sign_in(app, client):
    for path in ("/portal/points", "/portal/points-fund"):
        assert client.get(path).headers["Location"].startswith("/login?next=")
    response = client.post("/portal/points/transfer", data={"csrf_token": form_token(client)})
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")


@pytest.mark.parametrize("role", ["advertiser", "finance", "admin"])
def test_only_partners_have_a_points_page(points, client, role):
    earn(points.acme, 120, 1, days_ago=20, released=True)
    rep = make_person("partner", email="rep@acme.example", partner_id=points.acme.id)
    make_person(role)
    sign_in(client, f"{role}@people.example")
    assert client.get("/portal/points").status_code == 403
    before = entry_count()
    token = form_token(client, "/portal")
    assert hand(client, rep.id, 5, token=token).status_code == 403
    assert entry_count() == before


@pytest.mark.parametrize("role", ["finance", "admin"])
def test_finance_and_admins_see_the_fund_and_its_liability(points, client, role):
    earn(points.acme, 120, 1, days_ago=20, released=True)
    earn(points.other, 30, 2)
    make_person(role)
    sign_in(client, f"{role}@people.example")
    page = page_of(client, "/portal/points-fund")
    assert "Loyalty 2026" in page
    assert 'id="budget">900,000<' in page and 'id="drawn">150<' in page and 'id="left">899,850<' in page
    assert 'id="pending">30<' in page and 'id="liability-points">150<' in page
    assert format_money(150 * 50, "RUB") in page
    assert '<progress class="fund-progress" max="900000" value="150">' in page


@pytest.mark.parametrize("app", ["sqlite"], indirect=True)
def test_without_a_fund_the_page_says_how_to_open_one(app, client):
    make_person("finance")
    sign_in(client, "finance@people.example")
    page = page_of(client, "/portal/points-fund")
    assert 'id="no-fund"' in page
    assert "flask --app app channel points-fund --name" in page and "--point-value 50 --currency RUB" in page


@pytest.mark.parametrize("role", ["partner", "advertiser"])
def test_partners_and_vendors_have_no_fund_page(points, client, role):
    make_person(role)
    sign_in(client, f"{role}@people.example")
    assert client.get("/portal/points-fund").status_code == 403
