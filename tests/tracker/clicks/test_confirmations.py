"""A prefetched link keeps its token for the real visit: the landing helper or a conversion confirms it.

A prefetch alone never counts and never attributes; the person's visit to the prefetched page makes it a
click, counted once; bots and link previews are never confirmed; forged tokens confirm nothing.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import select

from core.db import db
from tests.factories import LinkFactory, OfferFactory, auth, expect, post_conversion
from tests.tracker.attribution.test_conversions import token_from
from tests.tracker.helpers import CHROME, click, drain
from tracker.attribution.models import Conversion
from tracker.clicks import tokens
from tracker.clicks.confirmations import apply_noted_visits
from tracker.clicks.records import ClickRecord
from tracker.clicks.store import RedisUniqueness
from tracker.program.models import Click
from tracker.services import tracker

T0 = datetime(2031, 6, 2, 9, 0, tzinfo=UTC)
SLACK = "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)"
BINGBOT = "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)"


def at(minutes: float = 0):
    return time_machine.travel(T0 + timedelta(minutes=minutes), tick=False)


def prefetch(client, code: str, user_agent: str = CHROME, header: tuple[str, str] = ("Sec-Purpose", "prefetch")):
    response = client.get(
        f"/c/{code}",
        headers={"User-Agent": user_agent, header[0]: header[1]},
        environ_base={"REMOTE_ADDR": "198.51.100.7"},
    )
    assert response.status_code == 302
    return token_from(response)


def stored(token: str) -> Click:
    db.session.rollback()  # see what other requests committed
    return db.session.get(Click, tokens.verify_token(tracker().token_key, token).click_id)


def helper_asks(client, token: str):
    return client.get("/t/ref", query_string={"atk": token}, headers={"Origin": "https://shop.example"})


def stats(client, headers) -> dict:
    day = T0.date().isoformat()
    body = expect(client.get("/api/v1/stats", query_string={"from": day, "to": day}, headers=headers), 200)
    totals = body["totals"]
    return {name: totals[name] for name in ("clicks", "unique_clicks", "bot_clicks", "leads")}


def test_prefetch_then_helper_then_conversion_is_attributed_and_counted_once(app):
    offer = OfferFactory(slug="erp")
    link = LinkFactory(code="pf-erp", offer=offer)
    client, admin = app.test_client(), auth("admin")
    vendor = auth("advertiser", advertiser_id=offer.advertiser_id)
    with at(0):
        token = prefetch(client, "pf-erp")
    click_row = stored(token)
    assert (click_row.traffic, click_row.is_unique, click_row.prefetch_confirmed_at) == ("prefetch", False, None)
    with at(1):  # a prefetch alone is never a click
        assert stats(client, admin) == {"clicks": 0, "unique_clicks": 0, "bot_clicks": 1, "leads": 0}

    with at(2):  # the person clicks; the browser shows the prefetched page and the helper asks for the code
        shown = helper_asks(client, token)
    assert shown.status_code == 200 and shown.json["ref"]
    click_row = stored(token)
    assert (click_row.traffic, click_row.is_unique) == ("human", True)
    assert click_row.prefetch_confirmed_at == T0 + timedelta(minutes=2)
    assert click_row.created_at == T0  # counted where the click happened
    with at(3):  # the next page asks again: nothing changes
        assert helper_asks(client, token).status_code == 200
    assert stored(token).prefetch_confirmed_at == T0 + timedelta(minutes=2)

    with at(30):
        lead = expect(post_conversion(client, vendor, offer="erp", event="lead", order_id="L-1", token=token), 201)
        assert (lead["partner_id"], lead["attributed_by"]) == (link.partner_id, "token")
        assert stats(client, admin) == {"clicks": 1, "unique_clicks": 1, "bot_clicks": 0, "leads": 1}
    conversion = db.session.scalar(select(Conversion))
    assert conversion.click_id == click_row.id and "prefetch_confirmed" not in conversion.attribution_notes


@pytest.mark.parametrize("source", ["api", "pixel"])
def test_a_conversion_carrying_a_prefetch_token_confirms_it_and_is_attributed_by_it(app, source):
    """A page without the helper: the form carried the prefetch's token, so the person saw the page."""
    offer = OfferFactory(slug="crm", trusted_channels=["api", "pixel"])
    link = LinkFactory(code="pf-crm", offer=offer)
    client = app.test_client()
    with at(0):
        token = prefetch(client, "pf-crm")
    with at(60 * 24 * 3):
        if source == "api":
            vendor = auth("advertiser", advertiser_id=offer.advertiser_id)
            expect(post_conversion(client, vendor, offer="crm", event="lead", order_id="L-2", token=token), 201)
        else:
            assert client.get(f"/p/crm.gif?event=lead&order_id=L-2&atk={token}").status_code == 200
    conversion = db.session.scalar(select(Conversion))
    assert (conversion.partner_id, conversion.carrier, conversion.click_id) == (
        link.partner_id,
        "token",
        stored(token).id,
    )
    assert conversion.attribution_notes == {"prefetch_confirmed": True}
    click_row = stored(token)
    assert (click_row.traffic, click_row.is_unique) == ("human", True)
    assert click_row.prefetch_confirmed_at == T0 + timedelta(days=3)


def test_an_unconfirmed_prefetch_never_attributes_by_its_reference_code(app):
    """The code is shown only by the helper, whose request confirms; a code of a prefetch nobody saw is refused."""
    offer = OfferFactory(slug="ref")
    LinkFactory(code="pf-ref", offer=offer)
    client = app.test_client()
    with at(0):
        token = prefetch(client, "pf-ref")
    vendor = auth("advertiser", advertiser_id=offer.advertiser_id)
    with at(60):
        lead = expect(
            post_conversion(client, vendor, offer="ref", event="lead", order_id="L-3", ref_code=stored(token).ref_code),
            201,
        )
    assert lead["partner_id"] is None
    assert stored(token).traffic == "prefetch"


@pytest.mark.parametrize(
    "user_agent, header, traffic",
    [
        (SLACK, ("Sec-Purpose", "prefetch"), "preview"),  # an unfurler's prefetch stays a preview
        (BINGBOT, ("Purpose", "prefetch"), "bot"),
        (CHROME, ("X-Purpose", "preview"), "preview"),  # Safari's Top Sites thumbnail
        (SLACK, ("X-Unused", "-"), "preview"),
    ],
)
def test_bots_and_previews_are_never_confirmed(app, user_agent, header, traffic):
    offer = OfferFactory(slug="bots")
    LinkFactory(code="pf-bot", offer=offer)
    client = app.test_client()
    with at(0):
        token = prefetch(client, "pf-bot", user_agent=user_agent, header=header)
    assert stored(token).traffic == traffic
    vendor = auth("advertiser", advertiser_id=offer.advertiser_id)
    with at(5):
        assert helper_asks(client, token).status_code == 200
        lead = expect(post_conversion(client, vendor, offer="bots", event="lead", order_id="L-4", token=token), 201)
    assert lead["partner_id"] is None and "bot_click" in lead["review_reasons"]
    click_row = stored(token)
    assert (click_row.traffic, click_row.prefetch_confirmed_at, click_row.is_unique) == (traffic, None, False)


def test_forged_tokens_confirm_nothing(app):
    LinkFactory(code="pf-forged")
    client = app.test_client()
    with at(0):
        token = prefetch(client, "pf-forged")
    claims = tokens.verify_token(tracker().token_key, token)
    altered = token[:-1] + ("A" if token[-1] != "A" else "B")
    other_key = tokens.issue_token(b"another key" * 3, claims.click_id, claims.issued_at)
    with at(1):
        for forged in (altered, other_key):
            response = helper_asks(client, forged)
            assert response.status_code == 400 and response.json["error"].startswith("invalid token")
    assert stored(token).traffic == "prefetch"


def test_the_helper_confirms_only_within_a_day_of_the_prefetch(app):
    LinkFactory(code="pf-late")
    client = app.test_client()
    with at(0):
        token = prefetch(client, "pf-late")
    with at(60 * 25):
        assert helper_asks(client, token).status_code == 200
    assert stored(token).traffic == "prefetch"


def test_a_confirmed_prefetch_follows_the_unique_click_rule(app):
    """The visitor's click an hour earlier opened the 24-hour window: the confirmed prefetch is a repeat."""
    LinkFactory(code="pf-uniq")
    client = app.test_client()
    with at(-60):
        first = token_from(click(client, "pf-uniq"))
    with at(0):
        token = prefetch(client, "pf-uniq")
    with at(1):
        helper_asks(client, token)
    assert stored(first).is_unique is True
    assert (stored(token).traffic, stored(token).is_unique) == ("human", False)


def test_a_visit_noted_before_the_stream_stored_the_click_is_applied_by_the_writer(stream_app):
    LinkFactory(code="pf-stream")
    client = stream_app.test_client()
    with at(0):
        token = prefetch(client, "pf-stream")
    with at(0.1):  # the helper is faster than the writer
        pending = helper_asks(client, token)
    assert (pending.status_code, pending.json) == (202, {"pending": True})
    assert drain() == 1  # no second request from the helper is needed
    click_row = stored(token)
    assert (click_row.traffic, click_row.is_unique) == ("human", True)
    assert click_row.prefetch_confirmed_at == T0 + timedelta(minutes=0.1)

    # Applying the notes again (a replayed batch) changes nothing.
    services = tracker()
    record = ClickRecord(
        id=click_row.id,
        created_ms=round(click_row.created_at.timestamp() * 1000),
        link_id=click_row.link_id,
        offer_id=click_row.offer_id,
        partner_id=click_row.partner_id,
        traffic="prefetch",
        device=click_row.device,
        os=click_row.os,
        browser=click_row.browser,
        visitor_hash=click_row.visitor_hash,
        visitor_hash_prev=click_row.visitor_hash,
    )
    policy = RedisUniqueness(services.redis, services.settings.redis_prefix)
    assert apply_noted_visits(db.session, services.redis, services.settings.redis_prefix, [record], policy) == 0
    db.session.commit()
    assert stored(token).prefetch_confirmed_at == T0 + timedelta(minutes=0.1)

    # The confirmed visit holds the visitor's window in Redis too: their next click within a day repeats.
    with at(60):
        again = token_from(click(client, "pf-stream"))
    drain()
    assert (stored(again).traffic, stored(again).is_unique) == ("human", False)


def test_a_human_click_still_on_the_stream_is_not_confirmed_by_its_note(stream_app):
    LinkFactory(code="pf-human")
    client = stream_app.test_client()
    with at(0):
        token = token_from(click(client, "pf-human"))
    with at(0.1):
        assert helper_asks(client, token).status_code == 202
    drain()
    click_row = stored(token)
    assert (click_row.traffic, click_row.is_unique, click_row.prefetch_confirmed_at) == ("human", True, None)
