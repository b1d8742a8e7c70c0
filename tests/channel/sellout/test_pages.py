"""/portal/sellout (a partner's uploads, preview, commit, discard, undo) and /admin/sellout-conflicts."""

from __future__ import annotations

import html
import io

import pytest
from sqlalchemy import func, select

from channel.sellout.models import SelloutUpload, SerialConflict
from core.db import db
from tests.channel.sellout.conftest import book, csv_bytes, points_of
from tests.core.people.conftest import cheap_hashes, compiled_catalogues, fresh_request_globals  # noqa: F401
from tests.core.people.helpers import form_token, make_person, sign_in

pytestmark = pytest.mark.usefixtures("compiled_catalogues")
PATH = "/portal/sellout"


def signed_in(client, partner, email="boss@reseller.example"):
    make_person("partner", email=email, partner_id=partner.id)
    sign_in(client, email)
    return client


def page_of(client, path=PATH, status=200) -> str:
    response = client.get(path)
    assert response.status_code == status, (path, response.status_code)
    return html.unescape(response.get_data(as_text=True))


def send(client, data: bytes, name="november.csv", token=None):
    form = {"file": (io.BytesIO(data), name), "csrf_token": token or form_token(client, PATH)}
    return client.post(f"{PATH}/upload", data=form, content_type="multipart/form-data")


def uploaded(client, *rows) -> int:
    response = send(client, csv_bytes(*rows))
    assert response.status_code == 303, response.get_data(as_text=True)
    return int(response.headers["Location"].rsplit("/", 1)[1])


def act(client, upload_id, action, **data):
    if "csrf_token" not in data:
        data["csrf_token"] = form_token(client, f"{PATH}/{upload_id}")
    return client.post(f"{PATH}/{upload_id}/{action}", data=data)


def upload_count() -> int:
    return db.session.scalar(select(func.count()).select_from(SelloutUpload)) or 0


def test_a_partner_uploads_sees_the_rejected_row_commits_and_sees_its_points(client, program):
    signed_in(client, program.reseller)
    upload_id = uploaded(client, program.row(), program.row(line_number=2, sku="NOPE-1"))
    preview = page_of(client, f"{PATH}/{upload_id}")
    assert "This is a preview" in preview and 'id="rows-accepted">1<' in preview and 'id="rejected-count">1<' in preview
    assert '<tr id="rejected-3"><td class="num">3</td><td>SKU NOPE-1 is not in the catalogue</td></tr>' in preview
    assert 'id="accepted-RT-100"' in preview and 'id="points-total">20<' in preview
    assert points_of(program.reseller) == 0  # a preview books nothing
    assert client.get(f"{PATH}/{upload_id}/commit").headers["Location"] == f"{PATH}/{upload_id}"  # language switch

    response = act(client, upload_id, "commit")
    assert response.status_code == 303 and response.headers["Location"] == f"{PATH}/{upload_id}?done=committed"
    result = page_of(client, response.headers["Location"])
    assert "The upload is committed" in result and 'id="points-booked">20<' in result
    assert points_of(program.reseller) == 20
    listing = page_of(client)
    assert f'id="upload-{upload_id}"' in listing and "november.csv" in listing and "committed" in listing
    assert 'id="pending">20<' in page_of(client, "/portal/points")
    again = act(client, upload_id, "commit")  # booked once, in the API's words
    assert again.status_code == 409
    assert f"upload {upload_id} is committed; only a previewed upload can be committed" in html.unescape(again.text)


def test_undo_asks_for_confirmation_then_takes_the_points_back(client, program):
    signed_in(client, program.reseller)
    upload_id = uploaded(client, program.row())
    act(client, upload_id, "commit")
    refused = act(client, upload_id, "undo")
    assert refused.status_code == 422 and 'id="confirm-error"' in refused.text
    assert points_of(program.reseller) == 20
    response = act(client, upload_id, "undo", confirm="y")
    assert response.headers["Location"] == f"{PATH}/{upload_id}?done=undone"
    assert "The upload is undone" in page_of(client, response.headers["Location"])
    assert points_of(program.reseller) == 0 and db.session.get(SelloutUpload, upload_id).state == "undone"


def test_a_preview_is_discarded_and_a_stale_one_is_refused_with_the_apis_reason(client, program):
    signed_in(client, program.reseller)
    first = uploaded(client, program.row())
    second = uploaded(client, program.row(), program.row(line_number=2))
    assert act(client, first, "undo").headers["Location"] == f"{PATH}/{first}?done=discarded"
    third = uploaded(client, program.row())  # the same file again, now that its preview is discarded
    act(client, third, "commit")
    stale = act(client, second, "commit")
    assert stale.status_code == 409 and 'id="refusal"' in stale.text
    assert "another upload booked some of upload" in html.unescape(stale.text)
    assert db.session.get(SelloutUpload, second).state == "previewed" and points_of(program.reseller) == 20


@pytest.mark.parametrize(
    ("data", "status", "message"),
    [
        (None, 400, "Choose the CSV or XLSX file."),
        (b"not,a,sellout\n1,2,3\n", 422, "Nothing was uploaded: "),
    ],
)
def test_a_refused_file_says_why_next_to_the_field_and_stores_nothing(client, program, data, status, message):
    signed_in(client, program.reseller)
    form = {"csrf_token": form_token(client, PATH)}
    if data is not None:
        form["file"] = (io.BytesIO(data), "bad.csv")
    response = client.post(f"{PATH}/upload", data=form, content_type="multipart/form-data")
    assert response.status_code == status
    page = html.unescape(response.text)
    assert message in page and 'id="file-error"' in page
    assert upload_count() == 0


def test_the_same_file_twice_is_refused(client, program):
    signed_in(client, program.reseller)
    data = csv_bytes(program.row())
    assert send(client, data).status_code == 303
    response = send(client, data)
    assert response.status_code == 409 and "a file is uploaded once" in html.unescape(response.text)
    assert upload_count() == 1


def test_the_template_is_the_apis(client, program):
    signed_in(client, program.reseller)
    ours = client.get(f"{PATH}/sellout-template.csv")
    theirs = client.get("/api/v1/sellout/template.csv", headers=program.keys["reseller"])
    assert ours.status_code == 200 and ours.data == theirs.data and ours.data.startswith(b"partner_key,")


def test_another_partners_upload_is_not_found(client, program):
    theirs = book(client, program.keys["other"], program.row(partner_key=program.other.id))["id"]
    signed_in(client, program.reseller)
    assert f'id="upload-{theirs}"' not in page_of(client)
    page_of(client, f"{PATH}/{theirs}", 404)
    token = form_token(client, PATH)
    assert act(client, theirs, "undo", csrf_token=token, confirm="y").status_code == 404
    assert act(client, theirs, "commit", csrf_token=token).status_code == 404
    assert db.session.get(SelloutUpload, theirs).state == "committed"
    page_of(client, f"{PATH}/{2**40}", 404)


def test_a_distributor_uploads_for_its_reseller_as_the_api_allows(client, program):
    signed_in(client, program.distributor, "boss@distributor.example")
    rows = (program.row(), program.row(line_number=2, partner_key=program.other.id))
    upload_id = uploaded(client, *rows)
    preview = page_of(client, f"{PATH}/{upload_id}")
    assert f"partner_key {program.other.id} is not one of distributor {program.distributor.id}'s resellers" in preview
    act(client, upload_id, "commit")
    assert points_of(program.reseller) == 20 and points_of(program.other) == 0
    reseller_upload = book(client, program.keys["reseller"], program.row(invoice_number="INV-2"))["id"]
    listing = page_of(client)  # a distributor sees its resellers' uploads too, and whose they are
    assert f'id="upload-{reseller_upload}"' in listing and program.reseller.name in listing


def test_an_admin_gives_a_conflicting_serial_to_the_claimant(client, program):
    serial = {"sku": "SW-8", "quantity": "1", "unit_price": "500.00", "serial": "SW000001"}
    book(client, program.keys["reseller"], program.row(**serial))
    book(client, program.keys["other"], program.row(partner_key=program.other.id, invoice_number="B-7", **serial))
    conflict = db.session.scalars(select(SerialConflict)).one()
    make_person("admin", email="admin@handoff.example")
    sign_in(client, "admin@handoff.example")
    page = page_of(client, "/admin/sellout-conflicts")
    assert f'id="conflict-{conflict.id}"' in page and "SW000001" in page and "B-7" in page
    assert program.reseller.name in page and program.other.name in page
    token = form_token(client, "/admin/sellout-conflicts")
    url = f"/admin/sellout-conflicts/{conflict.id}/resolve"
    wrong = client.post(url, data={"csrf_token": token, "winner_line_id": "999999"})
    assert wrong.status_code == 422 and "winner_line_id must be line" in wrong.text
    assert client.post(url, data={"csrf_token": token, "winner_line_id": "x"}).status_code == 422
    response = client.post(url, data={"csrf_token": token, "winner_line_id": str(conflict.claimant_line_id)})
    assert response.headers["Location"] == f"/admin/sellout-conflicts?resolved={conflict.id}"
    assert (points_of(program.reseller), points_of(program.other)) == (0, 25)
    page = page_of(client, response.headers["Location"])
    assert "No open conflicts." in page and f'id="resolved-{conflict.id}-{conflict.claimant_line_id}"' in page
    again = client.post(url, data={"csrf_token": token, "winner_line_id": str(conflict.holder_line_id)})
    assert again.status_code == 409 and "was resolved already" in again.text
    assert (
        client.post(
            "/admin/sellout-conflicts/999/resolve", data={"csrf_token": token, "winner_line_id": "1"}
        ).status_code
        == 404
    )


@pytest.mark.parametrize("role", ["advertiser", "finance", "admin"])
def test_only_partners_have_a_sellout_page(client, program, role):
    make_person(role)
    sign_in(client, f"{role}@people.example")
    assert client.get(PATH).status_code == 403
    assert send(client, csv_bytes(program.row()), token=form_token(client, "/portal")).status_code == 403
    assert upload_count() == 0


def test_only_admins_resolve_conflicts(client, program):
    signed_in(client, program.reseller)
    assert client.get("/admin/sellout-conflicts").status_code == 403
    token = form_token(client, PATH)
    assert client.post("/admin/sellout-conflicts/1/resolve", data={"csrf_token": token}).status_code == 403


def test_strangers_are_sent_to_sign_in(client, program):
    for path in (PATH, f"{PATH}/1", "/admin/sellout-conflicts"):
        assert client.get(path).headers["Location"].startswith("/login?next="), path
    response = client.post(f"{PATH}/1/commit", data={"csrf_token": form_token(client)})
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")


def test_a_post_without_its_csrf_token_is_refused(client, program):
    signed_in(client, program.reseller)
    form = {"file": (io.BytesIO(csv_bytes(program.row())), "november.csv")}
    assert client.post(f"{PATH}/upload", data=form, content_type="multipart/form-data").status_code == 400
    assert upload_count() == 0
    upload_id = uploaded(client, program.row())
    assert client.post(f"{PATH}/{upload_id}/commit").status_code == 400
    assert db.session.get(SelloutUpload, upload_id).state == "previewed"
