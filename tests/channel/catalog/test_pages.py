"""/portal/catalog: the vendor's (and admins') products with filters and an import, families and promotions."""

from __future__ import annotations

import html
import io

import pytest
from sqlalchemy import func, select

from channel.catalog.models import Product, ProductFamily, Promotion
from channel.catalog.sheets import COLUMNS, MAX_FILE_BYTES
from core.db import db
from tests.core.people.conftest import cheap_hashes, compiled_catalogues, fresh_request_globals  # noqa: F401
from tests.core.people.helpers import form_token, make_person, sign_in

pytestmark = pytest.mark.usefixtures("compiled_catalogues")
HEADER = "sku,name,family,list_price,currency,points_per_unit,eligible_from,eligible_to,active\n"
GOOD_ROWS = (
    "RT-100,Router 100,routers,199.90,EUR,10,2026-01-01,,true\n"
    "RT-200,Router 200,routers,299.00,EUR,15,2026-01-01,2026-12-31,\n"
)
UNKNOWN_FAMILY = "family 'switches' does not exist; create it first (POST /api/v1/catalog/families)"


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model)) or 0


def signed_in(client, role="advertiser"):
    make_person(role)
    sign_in(client, f"{role}@people.example")
    return client


def text_of(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def post(client, path, **data):
    token = form_token(client, "/portal/catalog")
    return client.post(path, data={**data, "csrf_token": token})


def add_family(client, code="routers", **fields):
    return post(client, "/portal/catalog/families", code=code, name=code.title(), **fields)


def upload(client, body: bytes | None, name="catalogue.csv"):
    token = form_token(client, "/portal/catalog")
    data: dict = {"csrf_token": token}
    if body is not None:
        data["file"] = (io.BytesIO(body), name)
    return client.post("/portal/catalog/import", data=data, content_type="multipart/form-data")


@pytest.mark.parametrize("role", ["advertiser", "admin"])
def test_the_vendor_imports_a_catalogue_and_sees_each_rejected_row(app, client, role):
    signed_in(client, role)
    assert add_family(client).status_code == 303
    csv = (
        HEADER
        + GOOD_ROWS
        + "SW-1,Switch,switches,50.00,EUR,3,2026-01-01,,\nRT-300,Router 300,routers,1.999,EUR,1,2026-01-01,,\n"
    )
    response = upload(client, csv.encode())
    assert response.status_code == 200
    page = text_of(response)
    assert "catalogue.csv: 4 rows read; 2 created, 0 updated, 0 unchanged, 2 rejected." in page
    assert f'<tr id="rejected-4"><td class="num">4</td><td class="nowrap">SW-1</td><td>{UNKNOWN_FAMILY}</td>' in page
    assert 'id="rejected-5"' in page and "list_price" in page
    assert count(Product) == 2
    again = text_of(upload(client, (HEADER + GOOD_ROWS).encode()))
    assert "2 rows read; 0 created, 0 updated, 2 unchanged, 0 rejected." in again

    assert client.get("/portal/catalog/import").headers["Location"] == "/portal/catalog"  # after the language switch
    listing = text_of(client.get("/portal/catalog"))
    assert '<tr id="product-RT-100">' in listing and '<tr id="product-RT-200">' in listing
    assert "€199.90" in listing and ">15<" in listing and "Dec 31, 2026" in listing


def test_products_are_filtered_and_paged_as_the_api_lists_them(app, client):
    signed_in(client)
    add_family(client)
    add_family(client, "switches")
    rows = "".join(f"RT-{n:03},Router {n},routers,10.00,EUR,1,2026-01-01,,\n" for n in range(51))
    rows += "SW-9,Switch 9,switches,10.00,EUR,1,2026-01-01,,false\n"
    assert "52 created" in text_of(upload(client, (HEADER + rows).encode()))
    first, second = text_of(client.get("/portal/catalog")), text_of(client.get("/portal/catalog?page=2"))
    assert first.count('<tr id="product-') == 50 and 'rel="next" href="/portal/catalog?page=2"' in first
    assert second.count('<tr id="product-') == 2 and "product-SW-9" in second
    by_name = text_of(client.get("/portal/catalog?q=router+5"))
    assert by_name.count('<tr id="product-') == 2  # Router 5 and Router 50
    withdrawn = text_of(client.get("/portal/catalog?active=false&family=switches"))
    assert withdrawn.count('<tr id="product-') == 1 and "withdrawn" in withdrawn
    refused = client.get("/portal/catalog?family=Not+A+Code")
    assert refused.status_code == 400
    assert "may hold only letters a-z, digits, '_' and '-'" in text_of(refused)


def test_the_import_template_is_the_importers_header(app, client):
    signed_in(client)
    response = client.get("/portal/catalog/catalogue-template.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.get_data(as_text=True) == ",".join(COLUMNS) + "\r\n"
    assert "attachment" in response.headers["Content-Disposition"]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (None, "Choose the CSV or XLSX file."),
        (b"", "Nothing was imported: the file is empty."),
        (b"sku,name\nRT-1,Router\n", "missing columns: family, list_price, currency, points_per_unit, eligible_from."),
        (
            b"x" * (MAX_FILE_BYTES + 10),
            f"Nothing was imported: the file is larger than {MAX_FILE_BYTES} bytes; split it.",
        ),
    ],
)
@pytest.mark.parametrize("app", ["sqlite"], indirect=True)
def test_a_file_that_cannot_be_read_imports_nothing(app, client, body, message):
    signed_in(client)
    add_family(client)
    response = upload(client, body)
    assert response.status_code in (400, 422)
    page = text_of(response)
    assert message in page and 'id="file-error"' in page
    assert count(Product) == 0


@pytest.mark.parametrize("app", ["sqlite"], indirect=True)
def test_a_file_beyond_the_body_limit_is_refused_on_the_page(app, client):
    signed_in(client)
    response = upload(client, b"x" * (2 * MAX_FILE_BYTES))
    assert response.status_code == 413
    assert "The file is larger than 1 MiB; nothing was imported." in text_of(response)
    assert count(Product) == 0


@pytest.mark.parametrize(
    ("fields", "status", "message", "where"),
    [
        ({"code": "Not A Code"}, 422, "may hold only letters a-z, digits, '_' and '-'", 'id="code-error"'),
        ({"price_below_percent": "10"}, 422, "price_below_percent and price_above_percent come together", "alert"),
        (
            {"serial_pattern": "(\\d{3}-)+"},
            422,
            "a repeated group may not hold a quantifier or '|' (it could backtrack without end)",
            'id="serial_pattern-error"',
        ),
        ({"name": ""}, 422, "String should have at least 1 character", 'id="name-error"'),
    ],
)
def test_a_refused_family_says_why_next_to_its_field(app, client, fields, status, message, where):
    signed_in(client)
    response = post(client, "/portal/catalog/families", **({"code": "routers", "name": "Routers"} | fields))
    assert response.status_code == status
    page = text_of(response)
    assert message in page and where in page
    assert count(ProductFamily) == 0


def test_a_family_code_taken_is_a_conflict(app, client):
    signed_in(client)
    add_family(client)
    response = add_family(client)
    assert response.status_code == 409 and "family 'routers' already exists" in text_of(response)
    assert count(ProductFamily) == 1


def test_promotions_are_created_with_the_apis_checks(app, client):
    signed_in(client)
    add_family(client)
    upload(client, (HEADER + GOOD_ROWS).encode())
    days = {"starts_on": "2027-03-01", "ends_on": "2027-03-31"}
    two = post(
        client, "/portal/catalog/promotions", name="Spring", multiplier="2", sku="RT-100", family="routers", **days
    )
    assert two.status_code == 422 and "name exactly one of sku, family and partner_tier" in text_of(two)
    unknown = post(client, "/portal/catalog/promotions", name="Spring", multiplier="2", sku="nope", **days)
    assert unknown.status_code == 422 and "product 'NOPE' is not in the catalogue" in text_of(unknown)
    assert 'id="sku-error"' in text_of(unknown)
    backwards = post(
        client,
        "/portal/catalog/promotions",
        name="Spring",
        multiplier="2",
        sku="RT-100",
        **days | {"ends_on": "2027-02-01"},
    )
    assert backwards.status_code == 422 and "ends_on must not be before starts_on" in text_of(backwards)
    too_big = post(client, "/portal/catalog/promotions", name="Spring", multiplier="101", sku="RT-100", **days)
    assert too_big.status_code == 422 and 'id="multiplier-error"' in text_of(too_big)
    assert count(Promotion) == 0

    made = post(client, "/portal/catalog/promotions", name="Spring routers", multiplier="1.5", family="routers", **days)
    assert made.status_code == 303 and made.headers["Location"] == "/portal/catalog?created=promotion#promotions"
    page = text_of(client.get("/portal/catalog?created=promotion"))
    assert "The promotion is created." in page and "Spring routers" in page and "×1.5" in page
    assert "family Routers" in page and "Mar 1, 2027 to Mar 31, 2027" in page


@pytest.mark.parametrize("role", ["partner", "finance"])
def test_partners_and_finance_have_no_catalogue_page(app, client, role):
    signed_in(client, role)
    assert client.get("/portal/catalog").status_code == 403
    assert client.get("/portal/catalog/catalogue-template.csv").status_code == 403
    token = form_token(client, "/portal")
    response = client.post("/portal/catalog/families", data={"code": "routers", "name": "R", "csrf_token": token})
    assert response.status_code == 403
    data = {"csrf_token": token, "file": (io.BytesIO((HEADER + GOOD_ROWS).encode()), "c.csv")}
    assert client.post("/portal/catalog/import", data=data, content_type="multipart/form-data").status_code == 403
    assert count(ProductFamily) == 0 and count(Product) == 0


@pytest.mark.parametrize("app", ["sqlite"], indirect=True)
def test_strangers_are_sent_to_sign_in(app, client):
    assert client.get("/portal/catalog").headers["Location"] == "/login?next=%2Fportal%2Fcatalog"
    response = client.post("/portal/catalog/families", data={"code": "x", "csrf_token": form_token(client)})
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")


@pytest.mark.parametrize("app", ["sqlite"], indirect=True)
def test_a_form_without_its_csrf_token_is_refused(app, client):
    signed_in(client)
    assert client.post("/portal/catalog/families", data={"code": "routers", "name": "R"}).status_code == 400
    data = {"file": (io.BytesIO((HEADER + GOOD_ROWS).encode()), "c.csv")}
    assert client.post("/portal/catalog/import", data=data, content_type="multipart/form-data").status_code == 400
    assert count(ProductFamily) == 0 and count(Product) == 0
