"""require_person: anyone not signed in is sent to sign in and back, another role gets a 403 page."""

from __future__ import annotations

import pytest

from core.people.access import local_path, login_url, require_person
from tests.core.people.helpers import make_person, sign_in


@pytest.fixture
def finance_page(app):
    @app.get("/finance-only")
    @require_person("finance")
    def finance_only():
        return "finance work"

    return app


@pytest.mark.parametrize("app", ["sqlite"], indirect=True)
def test_anyone_not_signed_in_is_sent_to_sign_in_and_back(finance_page, client):
    response = client.get("/finance-only?batch=7")
    assert response.status_code == 302
    assert response.headers["Location"] == "/login?next=%2Ffinance-only%3Fbatch%3D7"
    make_person("finance")
    assert (
        sign_in(client, "finance@people.example", next_path="/finance-only?batch=7").headers["Location"]
        == "/finance-only?batch=7"
    )
    assert client.get("/finance-only?batch=7").get_data(as_text=True) == "finance work"


def test_another_role_gets_a_403_page(finance_page, client):
    make_person("partner")
    sign_in(client, "partner@people.example")
    response = client.get("/finance-only")
    assert response.status_code == 403
    page = response.get_data(as_text=True)
    assert "Not for your role" in page and "Partner" in page and 'href="/portal"' in page


@pytest.mark.parametrize("role", ["admin", "advertiser", "finance", "partner"])
@pytest.mark.parametrize("app", ["sqlite"], indirect=True)
def test_every_role_has_a_home_that_says_who_and_for_whom(app, client, role):
    person = make_person(role)
    assert sign_in(client, person.email).headers["Location"] == "/portal"
    page = client.get("/portal").get_data(as_text=True)
    assert person.email in page and 'id="person-role"' in page
    assert "/api/v1/docs/redoc" in page
    if role in ("partner", "advertiser"):
        assert 'id="person-organisation"' in page
    else:
        assert 'id="person-organisation"' not in page


@pytest.mark.parametrize("app", ["sqlite"], indirect=True)
def test_the_portal_names_the_organisation(app, client):
    from tests.factories import PartnerFactory

    partner = PartnerFactory(name="Fabrikam Reviews")
    make_person("partner", partner_id=partner.id)
    sign_in(client, "partner@people.example")
    assert f"Fabrikam Reviews (#{partner.id})" in client.get("/portal").get_data(as_text=True)


@pytest.mark.parametrize(
    "target, local",
    [
        ("/portal", "/portal"),
        ("/a/b?c=d#e", "/a/b?c=d#e"),
        ("//evil.example", None),
        ("/\\evil.example", None),
        ("/\\/evil.example", None),
        ("https://evil.example/x", None),
        ("http:/evil.example", None),
        ("evil.example", None),
        ("/\tevil", None),
        ("/ok\nSet-Cookie: x", None),
        ("", None),
        (None, None),
    ],
)
def test_only_local_paths_are_followed(target, local):
    assert local_path(target) == (local or "/portal")


def test_the_login_address_carries_only_a_local_next():
    assert login_url("/finance-only?x=1") == "/login?next=%2Ffinance-only%3Fx%3D1"
    assert login_url("https://evil.example") == "/login"
    assert login_url("/portal") == "/login"
