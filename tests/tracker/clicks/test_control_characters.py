"""Control characters on the click path: refused with a reason before anything is recorded.

A NUL in a sub-id once went through to the Redis stream and stopped every worker that read it
(PostgreSQL refuses NUL in text); test_poisoned_entries.py covers the worker's side.
"""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from core.db import db
from tests.factories import LinkFactory
from tests.tracker.helpers import CHROME
from tracker.program.models import Click
from tracker.services import tracker

CONTROLS = ["%00", "%01", "%09", "%0A", "%0D", "%1B", "%1F", "%7F"]


def get(client, path: str, **headers):
    headers.setdefault("User-Agent", CHROME)
    return client.get(path, headers=headers, environ_base={"REMOTE_ADDR": "203.0.113.5"})


def stored_clicks() -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(Click))


@pytest.mark.parametrize("control", CONTROLS)
@pytest.mark.parametrize("sub", ["sub1", "sub5"])
def test_sub_id_with_a_control_character_is_refused(client, sub, control):
    LinkFactory(code="ctl-sub")
    response = get(client, f"/c/ctl-sub?{sub}=campaign{control}x")
    assert response.status_code == 400
    assert response.mimetype == "text/plain"
    assert response.get_data(as_text=True) == f"{sub} must not contain control characters\n"
    assert "Location" not in response.headers
    assert stored_clicks() == 0


@pytest.mark.parametrize("control", CONTROLS)
def test_link_code_with_a_control_character_is_refused_before_any_lookup(client, control):
    LinkFactory(code="ctl-code")
    response = get(client, f"/c/ctl-code{control}")
    assert response.status_code == 400
    assert response.get_data(as_text=True) == "link code must not contain control characters\n"
    assert stored_clicks() == 0


@pytest.mark.parametrize("control", CONTROLS)
def test_deep_link_with_a_control_character_is_refused(client, control):
    LinkFactory(code="ctl-deep")
    response = get(client, f"/c/ctl-deep?to=https://docs.example/guide{control}x")
    assert response.status_code == 400
    assert response.get_data(as_text=True) == "deep link is too long or has characters a URL cannot hold\n"
    assert stored_clicks() == 0


def test_ordinary_sub_ids_and_deep_links_still_pass(client):
    LinkFactory(code="ctl-ok")
    response = get(client, "/c/ctl-ok?sub1=%D0%BA%D0%B0%D0%BC%D0%BF+2024&sub2=a%20b&to=https://docs.example/%C3%BC?q=1")
    assert response.status_code == 302
    click = db.session.scalars(select(Click)).one()
    assert (click.sub1, click.sub2, click.deep_link) == ("камп 2024", "a b", "https://docs.example/ü?q=1")


def test_a_referer_with_control_characters_is_dropped_not_the_click(client):
    LinkFactory(code="ctl-ref")
    response = get(client, "/c/ctl-ref", Referer="https://news\x01.example/story")
    assert response.status_code == 302
    assert db.session.scalars(select(Click.referrer_host)).one() is None


def test_refused_click_never_reaches_the_stream(stream_app):
    LinkFactory(code="ctl-stream")
    services = tracker()
    response = get(stream_app.test_client(), "/c/ctl-stream?sub1=%00")
    assert response.status_code == 400
    assert services.redis.xlen(services.settings.click_stream_key) == 0
