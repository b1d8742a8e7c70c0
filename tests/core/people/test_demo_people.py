"""``flask --app app demo`` prints a person for every role, who can sign in with the printed password."""

from __future__ import annotations

import pytest

from tests.core.people.helpers import sign_in
from tracker.program.demo import create_demo, describe_demo


@pytest.mark.parametrize("app", ["sqlite"], indirect=True)
def test_the_demo_people_sign_in_with_the_printed_passwords_until_the_next_run(app, client):
    first = create_demo()
    assert {p["role"] for p in first["people"]} == {"admin", "finance", "advertiser", "partner"}
    partner_ids = {p["partner_id"] for p in first["people"] if p["role"] == "partner"}
    assert partner_ids == {p["id"] for p in first["partners"]}
    assert [p["advertiser_id"] for p in first["people"] if p["role"] == "advertiser"] == [first["advertiser"]["id"]]
    printed = describe_demo(first)
    for person in first["people"]:
        assert f"{person['email']:<28} {person['password']}" in printed
        assert sign_in(app.test_client(), person["email"], person["password"]).status_code == 302

    admin = next(p for p in first["people"] if p["role"] == "admin")
    sign_in(client, admin["email"], admin["password"])
    second = create_demo()
    assert client.get("/portal").status_code == 302  # the old password's sessions ended
    assert sign_in(client, admin["email"], admin["password"]).status_code == 200
    new = next(p for p in second["people"] if p["role"] == "admin")
    assert sign_in(client, new["email"], new["password"]).status_code == 302
