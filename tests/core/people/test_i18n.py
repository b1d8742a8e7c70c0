"""English and Russian: the person's setting, else the switch's cookie, else the browser's language."""

from __future__ import annotations

import pytest
from flask import g

from core.db import db
from core.i18n import money
from core.people.models import Person
from tests.core.people.helpers import form_token, make_person, sign_in

pytestmark = pytest.mark.usefixtures("compiled_catalogues")


def switch(client, lang: str, next_path: str = "/login"):
    return client.post("/lang", data={"lang": lang, "next": next_path, "csrf_token": form_token(client, next_path)})


@pytest.mark.parametrize("app", ["sqlite"], indirect=True)
def test_the_browsers_language_is_the_default(app, client):
    russian = client.get("/login", headers={"Accept-Language": "ru-RU,ru;q=0.9,en;q=0.5"}).get_data(as_text=True)
    assert '<html lang="ru">' in russian and "Забыли пароль?" in russian and "Войти" in russian
    english = client.get("/login", headers={"Accept-Language": "de-DE,de;q=0.9"}).get_data(as_text=True)
    assert '<html lang="en">' in english and "Forgot your password?" in english


@pytest.mark.parametrize("app", ["sqlite"], indirect=True)
def test_the_switch_sets_a_cookie_that_beats_the_browser(app, client):
    response = switch(client, "ru", "/password/forgot?x=1")
    assert response.status_code == 302 and response.headers["Location"] == "/password/forgot?x=1"
    assert "lang=ru" in response.headers["Set-Cookie"] and "SameSite=Lax" in response.headers["Set-Cookie"]
    page = client.get("/password/forgot", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Сброс пароля" in page and "Отправить ссылку" in page
    switch(client, "en")
    assert "Send the link" in client.get("/password/forgot").get_data(as_text=True)


@pytest.mark.parametrize("app", ["sqlite"], indirect=True)
def test_an_unknown_language_or_a_foreign_next_changes_nothing(app, client):
    response = switch(client, "de", "/login")
    assert response.headers["Location"] == "/login"
    assert not any(cookie.startswith("lang=") for cookie in response.headers.getlist("Set-Cookie"))
    assert client.get_cookie("lang") is None
    token = form_token(client, "/login")
    foreign = client.post("/lang", data={"lang": "ru", "next": "//evil.example/", "csrf_token": token})
    assert foreign.status_code == 302 and foreign.headers["Location"] == "/"
    assert client.get_cookie("lang").value == "ru"
    # The switch changes state (a signed-in person's saved language), so it is a form with CSRF, never a GET.
    assert client.get("/lang/ru").status_code in (404, 405)


def test_a_signed_in_persons_choice_is_kept_on_the_person_and_wins(app, client):
    person = make_person("partner")
    sign_in(client, person.email)
    switch(client, "ru", "/portal")
    db.session.expire_all()
    assert db.session.get(Person, person.id).locale == "ru"
    client.set_cookie("lang", "en")  # another browser's cookie, say
    page = client.get("/portal", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Вы вошли как" in page and "Партнёр" in page and "Выйти" in page


@pytest.mark.parametrize("app", ["sqlite"], indirect=True)
def test_form_errors_and_refusals_are_in_russian(app, client):
    make_person()
    client.set_cookie("lang", "ru")
    refused = sign_in(client, "admin@people.example", "wrong password!").get_data(as_text=True)
    assert "Неверный адрес или пароль" in refused
    empty = client.post("/login", data={"csrf_token": form_token(client)}).get_data(as_text=True)
    assert "Введите адрес эл. почты." in empty and "Введите пароль." in empty
    assert "Форма отклонена" in client.post("/login", data={}).get_data(as_text=True)


@pytest.mark.parametrize("app", ["sqlite"], indirect=True)
def test_money_is_written_for_the_readers_locale(app):
    with app.test_request_context("/", headers={"Cookie": "lang=ru"}):
        assert money(146914, "EUR") == "1\xa0469,14\xa0€"
    g.pop("_flask_babel", None)  # the locale Flask-Babel keeps for the test's one app context
    with app.test_request_context("/", headers={"Accept-Language": "en"}):
        assert money(146914, "EUR") == "€1,469.14"


def test_after_a_posted_form_the_switch_returns_to_the_page_that_showed_it(app, client):
    """A page rendered by a POST (a form with errors) names the form's own page, not the address posted to."""
    token = form_token(client)
    page = client.post(
        "/login",
        data={"email": "nobody@people.example", "password": "wrong", "csrf_token": token},
        headers={"Referer": "http://localhost/login?next=%2Fportal%2Fpoints"},
    ).get_data(as_text=True)
    assert 'name="next" value="/login?next=%2Fportal%2Fpoints"' in page
    elsewhere = client.post(
        "/login",
        data={"email": "nobody@people.example", "password": "wrong", "csrf_token": token},
        headers={"Referer": "https://evil.example/login"},
    ).get_data(as_text=True)
    assert 'name="next" value="/portal"' in elsewhere
