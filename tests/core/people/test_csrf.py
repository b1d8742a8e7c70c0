"""Every form outside the API carries a CSRF token; without it the post is refused with a page that says why."""

from __future__ import annotations

import pytest

from tests.core.people.helpers import PASSWORD, form_token, make_person, session_cookie, sign_in
from tests.factories import auth


@pytest.mark.parametrize("path", ["/login", "/logout", "/lang", "/password/forgot"])
@pytest.mark.parametrize("app", ["sqlite"], indirect=True)
def test_a_form_posted_without_its_token_is_refused(app, client, path):
    make_person()
    response = client.post(path, data={"email": "admin@people.example", "password": PASSWORD, "lang": "ru"})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "The form was refused" in page and "reload the page" in page
    assert session_cookie(client) is None


@pytest.mark.parametrize("app", ["sqlite"], indirect=True)
def test_a_token_from_another_browser_is_refused(app, client):
    make_person()
    token = form_token(app.test_client())
    assert form_token(client) != token
    response = client.post("/login", data={"email": "admin@people.example", "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 400


@pytest.mark.parametrize("app", ["sqlite"], indirect=True)
def test_signing_out_needs_the_token_so_another_site_cannot_sign_you_out(app, client):
    make_person()
    sign_in(client, "admin@people.example")
    assert client.post("/logout").status_code == 400
    assert client.get("/portal").status_code == 200


def test_the_api_takes_posts_without_a_csrf_token(app, client):
    response = client.post(
        "/api/v1/advertisers", json={"name": "Fabrikam", "contact_email": "a@fabrikam.example"}, headers=auth("admin")
    )
    assert response.status_code == 201, response.get_data(as_text=True)
