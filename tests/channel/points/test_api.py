"""The points endpoints: balance, entries, fund, adjustments and transfers, each key seeing what it may."""

from __future__ import annotations

import time_machine
from sqlalchemy import func, select

from channel.points.ledger import accrue, release_due
from channel.points.models import PointsEntry
from core.db import db
from tests.channel.points.conftest import T0, after
from tests.core.people.helpers import make_person
from tests.factories import AdvertiserFactory, auth, expect


def earn(points, partner, amount, line):
    accrue(partner.id, amount, "sellout_line", line, T0, "sell-out upload #1")
    db.session.commit()


def test_a_partner_key_reads_its_balance_with_what_expires_next(points, client):
    earn(points, points.acme, 120, 1)
    earn(points, points.acme, 30, 2)
    release_due(after(14))
    earn(points, points.other, 500, 3)
    key = auth("partner", partner_id=points.acme.id)
    with time_machine.travel(after(15), tick=False):
        body = expect(client.get("/api/v1/points/balance", headers=key), 200)
    assert (body["available"], body["pending"], body["total"]) == (150, 0, 150)
    assert body["expiring_next"] == {
        "points": 150,
        "expires_at": "2028-01-05T09:00:00Z",
        "expires_on": "2028-01-05",
        "notice": False,
    }
    refused = client.get(f"/api/v1/points/balance?partner_id={points.other.id}", headers=key)
    assert refused.status_code == 403


def test_admin_and_finance_name_the_partner(points, client):
    earn(points, points.other, 500, 3)
    finance = auth("finance")
    assert expect(client.get("/api/v1/points/balance", headers=finance), 422)["error"].startswith("partner_id")
    body = expect(client.get(f"/api/v1/points/balance?partner_id={points.other.id}", headers=finance), 200)
    assert (body["pending"], body["expiring_next"]["points"]) == (500, 500)
    assert client.get("/api/v1/points/balance?partner_id=987654", headers=finance).status_code == 404
    assert client.get("/api/v1/points/balance").status_code == 401
    vendor = auth("advertiser", advertiser_id=AdvertiserFactory().id)
    assert client.get(f"/api/v1/points/balance?partner_id={points.other.id}", headers=vendor).status_code == 403


def test_entries_are_paged_newest_first_and_scoped_to_the_partner(points, client):
    for line in range(1, 4):
        earn(points, points.acme, 10 * line, line)
    earn(points, points.other, 99, 9)
    key = auth("partner", partner_id=points.acme.id)
    page = expect(client.get("/api/v1/points/entries?limit=2", headers=key), 200)["items"]
    assert [(e["kind"], e["points"], e["source_id"]) for e in page] == [("accrued", 30, 3), ("accrued", 20, 2)]
    rest = expect(client.get("/api/v1/points/entries?limit=2&offset=2", headers=key), 200)["items"]
    assert [e["points"] for e in rest] == [10]
    everyone = expect(client.get("/api/v1/points/entries", headers=auth("admin")), 200)["items"]
    assert len(everyone) == 4


def test_finance_sees_the_fund_and_its_liability_in_money(points, client):
    earn(points, points.acme, 1000, 1)
    release_due(after(14))
    client.post(
        "/api/v1/points/adjustments",
        json={"partner_id": points.acme.id, "points": -200, "reason": "correction"},
        headers=auth("admin"),
    )
    body = expect(client.get("/api/v1/points/fund", headers=auth("finance")), 200)
    assert body["budget_points"] == 900_000 and body["drawn_points"] == 800 and body["left_points"] == 899_200
    assert (body["liability_points"], body["liability"], body["point_value"]) == (800, "400.00", "0.50")
    assert client.get("/api/v1/points/fund", headers=auth("partner", partner_id=points.acme.id)).status_code == 403


def test_an_admin_adjusts_with_a_reason_and_nothing_is_written_without_one(points, client):
    admin = auth("admin")
    body = {"partner_id": points.acme.id, "points": 50, "reason": "trade show"}
    entry = expect(client.post("/api/v1/points/adjustments", json=body, headers=admin), 201)
    assert (entry["kind"], entry["points"], entry["actor"][:9]) == ("adjusted", 50, "admin key")
    bad = client.post("/api/v1/points/adjustments", json={**body, "reason": " "}, headers=admin)
    assert bad.status_code == 422 and "reason" in bad.json["error"]
    zero = client.post("/api/v1/points/adjustments", json={**body, "points": 0}, headers=admin)
    assert zero.status_code == 422 and "non-zero" in zero.json["error"]
    assert client.post("/api/v1/points/adjustments", json=body, headers=auth("finance")).status_code == 403
    assert db.session.scalar(select(func.count()).select_from(PointsEntry)) == 1


def test_a_partner_hands_points_to_its_own_people_within_its_balance(points, client):
    earn(points, points.acme, 100, 1)
    release_due(after(14))
    rep = make_person("partner", "rep@acme.example", partner_id=points.acme.id)
    outsider = make_person("partner", "rep@other.example", partner_id=points.other.id)
    key = auth("partner", partner_id=points.acme.id)
    given = expect(client.post("/api/v1/points/transfers", json={"person_id": rep.id, "points": 60}, headers=key), 201)
    assert [(e["kind"], e["points"], e["person_id"]) for e in given["items"]] == [("transfer_in", 60, rep.id)]
    company = expect(client.get("/api/v1/points/balance", headers=key), 200)
    person = expect(client.get(f"/api/v1/points/balance?person_id={rep.id}", headers=key), 200)
    assert (company["available"], company["held_by_people"], person["available"]) == (40, 60, 60)
    too_much = client.post("/api/v1/points/transfers", json={"person_id": rep.id, "points": 41}, headers=key)
    assert too_much.status_code == 422 and "only 40 points available" in too_much.json["error"]
    theirs = client.post("/api/v1/points/transfers", json={"person_id": outsider.id, "points": 1}, headers=key)
    assert theirs.status_code == 422 and "not one of partner" in theirs.json["error"]
    assert (
        client.post(
            "/api/v1/points/transfers", json={"person_id": rep.id, "points": 1}, headers=auth("admin")
        ).status_code
        == 403
    )
