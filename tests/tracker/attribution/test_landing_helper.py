"""The landing helper in a real browser: Debian's Chromium, driven by Playwright, on two local origins."""

from __future__ import annotations

import re
import time
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import select
from werkzeug.serving import make_server

from core.db import db
from tests.browser import serve_in_thread
from tests.factories import LinkFactory, OfferFactory
from tests.tracker.helpers import CHROME
from tracker.attribution.models import Conversion
from tracker.program.models import Click

LANDING = """<!doctype html><html><head><title>Fabrikam ERP</title>
<script src="{handoff}/t.js" data-offer="erp" async></script></head>
<body><p>Your partner reference: <strong data-handoff-ref>…</strong></p>
<form id="lead" action="/thanks" method="post"><input name="email" value="anna@fabrikam.example"></form>
<a id="next" href="/pricing.html">Pricing</a>
<button id="convert" onclick="Handoff.convert({{event: 'lead', order_id: 'FORM-1'}})">Send</button>
</body></html>"""


@pytest.fixture
def sites(app, tmp_path):
    """Handoff on one origin, the advertiser's landing page on another."""
    handoff = serve_in_thread(make_server("127.0.0.1", 0, app, threaded=True))
    handoff_url = f"http://127.0.0.1:{handoff.server_port}"
    (tmp_path / "site").mkdir()
    for page in ("landing.html", "pricing.html"):
        (tmp_path / "site" / page).write_text(LANDING.format(handoff=handoff_url))
    handler = partial(SimpleHTTPRequestHandler, directory=str(tmp_path / "site"))
    landing = serve_in_thread(ThreadingHTTPServer(("127.0.0.1", 0), handler))
    landing_url = f"http://127.0.0.1:{landing.server_port}"
    offer = OfferFactory(slug="erp", landing_url=f"{landing_url}/landing.html")
    LinkFactory(code="erp-link", offer=offer)
    yield handoff_url, landing_url
    handoff.shutdown()
    landing.shutdown()


def wait_for(predicate, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        db.session.rollback()
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    return predicate()


@pytest.mark.parametrize("app", ["sqlite"], indirect=True)
def test_helper_keeps_the_token_shows_the_reference_and_fires_a_conversion_without_cookies(browser, sites):
    handoff_url, landing_url = sites
    # Headless Chromium announces itself as HeadlessChrome, which is rightly classed as a bot.
    context = browser.new_context(user_agent=CHROME)
    page = context.new_page()
    page.goto(f"{handoff_url}/c/erp-link")
    assert page.url.startswith(f"{landing_url}/landing.html?atk=")
    token = page.url.split("atk=")[1]

    page.wait_for_function("document.querySelector('[data-handoff-ref]').textContent.length > 3")
    reference = page.text_content("[data-handoff-ref]")
    assert re.fullmatch(r"[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]", reference)
    assert page.get_attribute("#lead input[name=atk]", "value") == token
    assert page.get_attribute("#lead input[name=handoff_ref]", "value") == reference

    page.click("#next")  # the next page of the site still knows the click
    page.wait_for_url(re.compile(r".*/pricing\.html\?atk="))
    page.wait_for_selector("#lead input[name=atk]", state="attached")
    assert page.get_attribute("#lead input[name=atk]", "value") == token

    page.click("#convert")
    conversion = wait_for(lambda: db.session.scalar(select(Conversion)))
    assert conversion is not None
    assert (conversion.source, conversion.order_id, conversion.carrier) == ("pixel", "FORM-1", "token")
    assert context.cookies([handoff_url, landing_url]) == []

    # The forwarded landing URL, opened by a colleague in a browser that shares nothing with the first.
    colleague = browser.new_context(user_agent=CHROME).new_page()
    colleague.goto(f"{landing_url}/landing.html?atk={token}")
    colleague.wait_for_selector("#lead input[name=atk]", state="attached")
    assert colleague.get_attribute("#lead input[name=atk]", "value") == token
    assert colleague.context.cookies([handoff_url, landing_url]) == []


@pytest.mark.parametrize("app", ["sqlite"], indirect=True)
def test_the_helper_confirms_a_prefetched_click_when_the_page_is_shown(browser, sites):
    handoff_url, _ = sites
    page = browser.new_context(user_agent=CHROME).new_page()

    # The redirect the browser fetched ahead of the person, now shown to them: no second request to /c/.
    def as_prefetch(route):
        route.continue_(headers={**route.request.headers, "purpose": "prefetch"})

    page.route(f"{handoff_url}/c/**", as_prefetch)
    page.goto(f"{handoff_url}/c/erp-link")
    page.wait_for_function("document.querySelector('[data-handoff-ref]').textContent.length > 3")
    click = wait_for(lambda: db.session.scalar(select(Click).where(Click.prefetch_confirmed_at.is_not(None))))
    assert click is not None and (click.traffic, click.is_unique) == ("human", True)
