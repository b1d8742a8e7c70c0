"""Who may upload what, and who sees which upload: another company's upload is answered 404."""

from __future__ import annotations

from tests.channel.sellout.conftest import UPLOADS, commit, preview, reasons
from tests.factories import expect


def test_a_partner_key_reports_only_its_own_sales(client, program):
    answer = preview(
        client, program.keys["reseller"], program.row(), program.row(line_number=2, partner_key=program.other.id)
    )
    assert answer["rows_accepted"] == 1
    assert (
        reasons(answer)[3]
        == f"partner_key {program.other.id}: a partner key reports only its own sales ({program.reseller.id})"
    )


def test_a_distributor_reports_for_its_resellers_and_no_one_else(client, program):
    rows = [
        program.row(),
        program.row(line_number=2, partner_key=program.distributor.id),
        program.row(line_number=3, partner_key=program.other.id),
    ]
    answer = preview(client, program.keys["distributor"], *rows)
    assert answer["rows_accepted"] == 2
    assert (
        reasons(answer)[4]
        == f"partner_key {program.other.id} is not one of distributor {program.distributor.id}'s resellers"
    )


def test_an_upload_is_seen_by_its_company_and_its_distributor_only(client, program):
    mine = preview(client, program.keys["reseller"], program.row())
    url = f"{UPLOADS}/{mine['id']}"
    for who in ("reseller", "distributor", "admin", "finance"):
        assert expect(client.get(url, headers=program.keys[who]), 200)["id"] == mine["id"]
    assert expect(client.get(url, headers=program.keys["other"]), 404)["error"] == f"upload {mine['id']} not found"
    expect(client.post(f"{url}/commit", headers=program.keys["other"]), 404)
    expect(client.delete(url, headers=program.keys["other"]), 404)
    expect(client.post(f"{url}/commit", headers=program.keys["finance"]), 403)
    assert expect(client.get(UPLOADS, headers=program.keys["other"]), 200)["items"] == []
    assert [u["id"] for u in expect(client.get(UPLOADS, headers=program.keys["distributor"]), 200)["items"]] == [
        mine["id"]
    ]
    commit(client, program.keys["distributor"], mine["id"])
    assert commit(client, program.keys["reseller"], mine["id"], 409)  # booked once
    expect(client.get(UPLOADS), 401)
