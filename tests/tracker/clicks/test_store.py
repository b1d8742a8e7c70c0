"""Storing clicks: a click whose first reference code another click already holds is stored with its next one.

The collision is forced: the click is made through ``/c/`` and waits on the stream, its id is read from
its token, and an earlier click is given the code that id would draw first. Codes come from the click id
under a secret key, so the test knows both candidates before the worker runs.
"""

from __future__ import annotations

from sqlalchemy import select, update

from core.db import db
from tests.factories import LinkFactory
from tests.tracker.attribution.test_conversions import token_from
from tests.tracker.helpers import click, drain
from tracker.clicks import refcodes, tokens
from tracker.program.models import Click
from tracker.services import tracker


def click_id_of(token: str) -> int:
    return tokens.verify_token(tracker().token_key, token).click_id


def stored_codes() -> dict[int, str]:
    db.session.rollback()
    return dict(db.session.execute(select(Click.id, Click.ref_code)).all())


def test_a_click_whose_first_code_is_taken_gets_the_next_one(stream_app):
    LinkFactory(code="clash-1")
    client = stream_app.test_client()
    first = click_id_of(token_from(click(client, "clash-1", address="198.51.100.1")))
    assert drain() == 1
    second_token = token_from(click(client, "clash-1", address="198.51.100.2"))
    second = click_id_of(second_token)

    key = tracker().refcode_key
    wanted, next_code = refcodes.code_for_click(key, second, 0), refcodes.code_for_click(key, second, 1)
    assert wanted != next_code
    db.session.execute(update(Click).where(Click.id == first).values(ref_code=wanted))
    db.session.commit()

    assert drain() == 1
    assert stored_codes() == {first: wanted, second: next_code}
    # The landing helper shows the code the click really got.
    reference = client.get("/t/ref", query_string={"atk": second_token})
    assert reference.status_code == 200 and reference.json == {"ref": refcodes.display(next_code)}


def test_without_a_collision_a_click_keeps_its_first_code(stream_app):
    LinkFactory(code="clash-2")
    token = token_from(click(stream_app.test_client(), "clash-2"))
    assert drain() == 1
    click_id = click_id_of(token)
    assert stored_codes() == {click_id: refcodes.code_for_click(tracker().refcode_key, click_id, 0)}
