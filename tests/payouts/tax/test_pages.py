"""/portal/tax: the partner reads its tax profile, keeps its bank details (IBAN checked) and uploads W-8/W-9 PDFs."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import pytest
from sqlalchemy import func, select

from core.db import db
from core.people.models import Person
from payouts.tax.models import TaxFormFile, TaxProfile
from tests.core.people.conftest import cheap_hashes, compiled_catalogues, fresh_request_globals  # noqa: F401
from tests.core.people.helpers import PASSWORD, form_token, make_person, sign_in
from tests.factories import PartnerFactory
from tests.payouts.batches.test_batches import give_profile

GOOD_IBAN = "DE89 3704 0044 0532 0130 00"
BAD_IBAN = "DE89 3704 0044 0532 0130 01"  # one digit off: the check digits fail
DE_COMPANY = {
    "kind": "company",
    "country": "DE",
    "vat_registered": True,
    "vat_number": "DE136695976",
    "tax_id": "DE136695976",
    "regime_code": "eu_domestic_vat",
    "regime_inputs": {"vat_country": "DE"},
}
PDF = b"%PDF-1.7\n" + b"0" * 2000 + b"\n%%EOF\n"


@pytest.fixture
def partners(app):
    ours, theirs = PartnerFactory(name="Contoso Blog"), PartnerFactory(name="Northwind Deals")
    give_profile(ours, **DE_COMPANY, iban="FR1420041010050500013M02606", account_holder="Contoso GmbH")
    give_profile(theirs, **DE_COMPANY | {"vat_number": "DE129273398", "tax_id": "DE129273398"}, iban=GOOD_IBAN)
    return ours, theirs


def signed_in(client, partner, email="money@contoso.example"):
    make_person("partner", email=email, partner_id=partner.id)
    sign_in(client, email)


def save_bank(client, **values):
    data = {"iban": GOOD_IBAN, "bic": "", "account_holder": "Contoso GmbH", "password": PASSWORD, **values}
    return client.post("/portal/tax/bank", data={**data, "csrf_token": form_token(client, "/portal/tax")})


def upload(client, content: bytes, name="w8.pdf", kind="w8ben", token=True):
    data = {"kind": kind, "file": (io.BytesIO(content), name)}
    if token:
        data["csrf_token"] = form_token(client, "/portal/tax")
    return client.post("/portal/tax/forms", data=data, content_type="multipart/form-data")


def profile_of(partner) -> TaxProfile:
    db.session.expire_all()
    return db.session.scalar(select(TaxProfile).where(TaxProfile.partner_id == partner.id))


def stored_files(app) -> list[Path]:
    return sorted((Path(app.instance_path) / "tax_forms").rglob("*"))


def form_count() -> int:
    return db.session.scalar(select(func.count()).select_from(TaxFormFile))


def test_a_partner_sees_its_own_profile_only(app, client, partners):
    ours = partners[0]
    signed_in(client, ours)
    page = client.get("/portal/tax").get_data(as_text=True)
    assert 'href="/portal/tax" aria-current="page"' in page
    assert "DE136695976" in page and "company" in page and 'value="FR1420041010050500013M02606"' in page
    assert "DE129273398" not in page and "DE89370400440532013000" not in page


def test_a_bad_iban_is_refused_on_its_field_and_a_good_one_saved(app, client, partners):
    ours, theirs = partners
    signed_in(client, ours)
    response = save_bank(client, iban=BAD_IBAN)
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="iban-error">not a valid IBAN: The number&#39;s checksum or check digit is invalid.' in page
    assert f'value="{BAD_IBAN}"' in page  # kept for correcting
    assert profile_of(ours).iban == "FR1420041010050500013M02606"

    response = save_bank(client, iban=GOOD_IBAN, bic="COBADEFFXXX", account_holder="  Contoso Media GmbH ")
    assert response.status_code == 303 and response.headers["Location"] == "/portal/tax?saved=bank"
    profile = profile_of(ours)
    assert (profile.iban, profile.bic, profile.account_holder) == (
        "DE89370400440532013000",
        "COBADEFFXXX",
        "Contoso Media GmbH",
    )
    assert profile.updated_by_key_id is None
    assert 'id="bank-saved"' in client.get("/portal/tax?saved=bank").get_data(as_text=True)
    assert profile_of(theirs).bic is None and profile_of(theirs).account_holder is None


def test_a_bad_bic_and_an_overlong_holder_are_refused_with_nothing_written(app, client, partners):
    ours, _ = partners
    signed_in(client, ours)
    page = save_bank(client, bic="12AB").get_data(as_text=True)
    assert 'id="bic-error">not a valid BIC' in page
    response = save_bank(client, account_holder="x" * 201)
    assert response.status_code == 400 and 'id="account_holder-error"' in response.get_data(as_text=True)
    assert profile_of(ours).iban == "FR1420041010050500013M02606"


def test_changing_bank_details_asks_for_the_password_again(app, client, partners):
    ours, _ = partners
    signed_in(client, ours)
    response = save_bank(client, password="not the password")
    assert response.status_code == 403
    assert 'id="password-error">The password is wrong' in response.get_data(as_text=True)
    assert profile_of(ours).iban == "FR1420041010050500013M02606"
    missing = save_bank(client, password="")
    assert missing.status_code == 400 and 'id="password-error"' in missing.get_data(as_text=True)
    person = db.session.scalar(select(Person).where(Person.email == "money@contoso.example"))
    assert person.failed_logins == 1  # a guess here counts towards the lock-out like one at /login
    assert save_bank(client).status_code == 303 and profile_of(ours).iban == GOOD_IBAN.replace(" ", "")


def test_a_partner_without_a_profile_cannot_enter_bank_details(app, client):
    partner = PartnerFactory()
    signed_in(client, partner)
    page = client.get("/portal/tax").get_data(as_text=True)
    assert 'id="no-profile"' in page and 'id="bank-form"' not in page
    response = client.post(
        "/portal/tax/bank", data={"iban": GOOD_IBAN, "csrf_token": form_token(client, "/portal/tax")}
    )
    assert response.status_code == 409
    assert db.session.scalar(select(func.count()).select_from(TaxProfile)) == 0


def test_an_uploaded_pdf_is_stored_listed_and_downloaded_by_its_partner_only(app, client, partners):
    ours, theirs = partners
    signed_in(client, ours)
    big = PDF + b"1" * (2 * 1024 * 1024)  # over the site's 1 MB body limit, under the form's 5 MB
    for content, name, kind in ((PDF, "W-8BEN signed.pdf", "w8ben"), (big, "w9.pdf", "w9")):
        response = upload(client, content, name=name, kind=kind)
        assert response.status_code == 303, response.get_data(as_text=True)
    rows = db.session.scalars(select(TaxFormFile).order_by(TaxFormFile.id)).all()
    assert [(row.partner_id, row.kind, row.file_name, row.size_bytes) for row in rows] == [
        (ours.id, "w8ben", "W-8BEN signed.pdf", len(PDF)),
        (ours.id, "w9", "w9.pdf", len(big)),
    ]
    first = rows[0]
    assert first.sha256 == hashlib.sha256(PDF).hexdigest()
    assert (Path(app.instance_path) / "tax_forms" / str(ours.id) / f"{first.id}.pdf").read_bytes() == PDF
    page = client.get("/portal/tax").get_data(as_text=True)
    assert f'href="/portal/tax/forms/{first.id}">W-8BEN signed.pdf</a>' in page
    download = client.get(f"/portal/tax/forms/{first.id}")
    assert download.status_code == 200 and download.data == PDF and download.mimetype == "application/pdf"
    assert "attachment" in download.headers["Content-Disposition"]

    other = app.test_client()
    signed_in(other, theirs, email="money@northwind.example")
    assert other.get(f"/portal/tax/forms/{first.id}").status_code == 404
    assert "W-8BEN signed.pdf" not in other.get("/portal/tax").get_data(as_text=True)
    assert other.get("/portal/tax/forms/999999").status_code == 404


@pytest.mark.parametrize(
    ("content", "name", "status", "message"),
    [
        (b"PK\x03\x04 a zip named pdf", "w8.pdf", 422, "the file is not a PDF"),
        (b"", "empty.pdf", 422, "the file is empty"),
        (b"%PDF-" + b"0" * (5 * 1024 * 1024), "just-over.pdf", 422, "the file is larger than 5 MB"),
        (b"%PDF-" + b"0" * (7 * 1024 * 1024), "far-over.pdf", 413, "The file is larger than 5 MB; nothing was stored."),
    ],
)
def test_a_non_pdf_or_oversized_upload_is_refused_and_nothing_stored(
    app, client, partners, content, name, status, message
):
    signed_in(client, partners[0])
    response = upload(client, content, name=name)
    page = response.get_data(as_text=True)
    assert response.status_code == status, page[:400]
    assert 'id="file-error"' in page and message in page
    assert form_count() == 0 and stored_files(app) == []


@pytest.mark.parametrize("app", ["sqlite"], indirect=True)
def test_posts_without_the_csrf_token_are_refused(app, client, partners):
    ours, _ = partners
    signed_in(client, ours)
    assert upload(client, PDF, token=False).status_code == 400
    assert client.post("/portal/tax/bank", data={"iban": GOOD_IBAN}).status_code == 400
    assert form_count() == 0 and profile_of(ours).iban == "FR1420041010050500013M02606"


@pytest.mark.parametrize("role", ["admin", "advertiser", "finance"])
@pytest.mark.parametrize("app", ["sqlite"], indirect=True)
def test_other_roles_get_403(app, client, partners, role):
    person = make_person(role)
    sign_in(client, person.email)
    assert client.get("/portal/tax").status_code == 403
    token = form_token(client, "/portal")
    assert client.post("/portal/tax/bank", data={"iban": GOOD_IBAN, "csrf_token": token}).status_code == 403
    response = client.post(
        "/portal/tax/forms",
        data={"kind": "w9", "file": (io.BytesIO(PDF), "w9.pdf"), "csrf_token": token},
        content_type="multipart/form-data",
    )
    assert response.status_code == 403 and form_count() == 0


@pytest.mark.parametrize("app", ["sqlite"], indirect=True)
def test_anyone_not_signed_in_is_sent_to_sign_in(app, client):
    response = client.get("/portal/tax")
    assert response.status_code == 302 and response.headers["Location"] == "/login?next=%2Fportal%2Ftax"
    assert client.get("/portal/tax/forms/1").headers["Location"].startswith("/login")
