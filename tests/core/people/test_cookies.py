"""The click path, the pixel and the API answer with no cookie, even to a browser signed in to the portal."""

from __future__ import annotations

import pytest

from tests.core.people.helpers import make_person, sign_in
from tests.factories import LinkFactory, auth
from tests.tracker.helpers import CHROME


@pytest.mark.parametrize("signed_in", [False, True])
def test_clicks_pixels_and_the_api_set_no_cookie(app, client, signed_in):
    link = LinkFactory(code="no-cookies")
    headers = auth("admin")
    if signed_in:
        make_person()
        sign_in(client, "admin@people.example")
        client.get("/portal")
    answers = {
        "click": client.get("/c/no-cookies", headers={"User-Agent": CHROME}),
        "unknown link": client.get("/c/nope", headers={"User-Agent": CHROME}),
        "pixel": client.get(f"/p/{link.offer.slug}.gif?event=lead&order_id=A1"),
        "helper": client.get("/t.js"),
        "api": client.get("/api/v1/links", headers=headers),
        "api refusal": client.get("/api/v1/links"),
        "api post": client.post(
            "/api/v1/advertisers", json={"name": "N", "contact_email": "n@n.example"}, headers=headers
        ),
        "health": client.get("/healthz"),
        "stylesheet": client.get("/static/handoff.css"),
    }
    assert answers["click"].status_code == 302 and answers["api"].status_code == 200
    assert {name: r.headers.getlist("Set-Cookie") for name, r in answers.items()} == {name: [] for name in answers}
    assert all("Cookie" not in r.headers.get("Vary", "") for r in answers.values())
