"""The demo program a newcomer starts with: printed as JSON, repeatable, and its links work."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import func, select

from core.api.apikeys import ApiKey
from core.db import db
from tests.tracker.helpers import CHROME
from tracker.attribution.models import Conversion, PixelError
from tracker.clicks import refcodes, tokens
from tracker.program.models import Advertiser, Click, Link, Offer, Partner
from tracker.services import tracker

T0 = datetime(2031, 2, 3, 10, 0, tzinfo=UTC)
# Four, four and one Crockford characters; the check character is never one of *~$=U.
DISPLAYED_CODE = re.compile(r"[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]")


@pytest.fixture(autouse=True)
def frozen(time_machine):
    time_machine.move_to(T0, tick=False)


def run_demo(app) -> dict:
    result = app.test_cli_runner().invoke(args=["demo", "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def program_counts() -> dict[str, int]:
    return {
        "advertisers": count(Advertiser),
        "offers": count(Offer),
        "partners": count(Partner),
        "links": count(Link),
        "active keys": count(ApiKey, ApiKey.revoked_at.is_(None)),
        "revoked keys": count(ApiKey, ApiKey.revoked_at.is_not(None)),
    }


def test_demo_creates_one_offer_three_partners_their_links_and_a_key_per_role(app):
    summary = run_demo(app)
    assert program_counts() == {
        "advertisers": 1,
        "offers": 1,
        "partners": 3,
        "links": 3,
        "active keys": 6,
        "revoked keys": 0,
    }
    partners = {p["link_code"]: p for p in summary["partners"]}
    assert list(partners) == ["demo-dist", "demo-resell", "demo-aff"]
    assert [partners[code]["kind"] for code in partners] == ["distributor", "reseller", "affiliate"]
    assert partners["demo-resell"]["parent_id"] == partners["demo-dist"]["id"]
    assert partners["demo-aff"]["link_url"] == "http://handoff.test/c/demo-aff"
    keys = db.session.execute(select(ApiKey.role, ApiKey.advertiser_id, ApiKey.partner_id, ApiKey.label)).all()
    assert sorted(keys, key=lambda k: (k.role, k.partner_id or 0)) == [
        ("admin", None, None, "demo"),
        ("advertiser", summary["advertiser"]["id"], None, "demo"),
        ("finance", None, None, "demo"),
        *sorted(("partner", None, p["id"], "demo") for p in summary["partners"]),
    ]
    assert set(summary["keys"]) == {"admin", "finance", "advertiser"}


def test_demo_links_redirect_and_the_reseller_sees_its_own_click(app):
    summary = run_demo(app)
    kinds = {p["kind"]: p for p in summary["partners"]}
    client = app.test_client()
    for partner in summary["partners"]:
        assert client.get(partner["link_url"].removeprefix(summary["base_url"])).status_code == 302
    stats = client.get("/api/v1/stats", headers={"Authorization": f"Bearer {kinds['reseller']['key']}"})
    assert stats.status_code == 200
    assert [(row["key"], row["clicks"]) for row in stats.json["rows"]] == [("2031-02-03", 1)]


def test_running_demo_again_keeps_the_program_and_replaces_the_keys(app):
    first, second = run_demo(app), run_demo(app)
    assert program_counts() == {
        "advertisers": 1,
        "offers": 1,
        "partners": 3,
        "links": 3,
        "active keys": 6,
        "revoked keys": 6,
    }
    assert [p["id"] for p in first["partners"]] == [p["id"] for p in second["partners"]]
    client = app.test_client()
    old = client.get("/api/v1/offers", headers={"Authorization": f"Bearer {first['keys']['admin']}"})
    new = client.get("/api/v1/offers", headers={"Authorization": f"Bearer {second['keys']['admin']}"})
    assert (old.status_code, new.status_code) == (401, 200)


def test_landing_page_shows_the_clicks_reference_code(app):
    summary = run_demo(app)
    client = app.test_client()
    response = client.get("/c/demo-aff")
    assert response.status_code == 302
    location = response.headers["Location"]
    click_id = tokens.verify_token(tracker().token_key, parse_qs(urlsplit(location).query)["atk"][0]).click_id

    stored = db.session.scalar(select(Click.ref_code).where(Click.id == click_id))
    assert stored == refcodes.code_for_click(tracker().refcode_key, click_id, 0)  # its first candidate
    assert refcodes.normalize(stored) == stored  # nine characters whose check character matches
    shown = refcodes.display(stored)
    assert DISPLAYED_CODE.fullmatch(shown)

    page = client.get(location.removeprefix(summary["base_url"]))
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "signature valid" in html
    assert f'<p class="ref" data-handoff-ref>{shown}</p>' in html


def test_overview_page_lists_links_with_counts(app):
    run_demo(app)
    client = app.test_client()
    assert client.get("/c/demo-dist", headers={"User-Agent": CHROME}).status_code == 302
    assert client.get("/c/demo-dist", headers={"User-Agent": "curl/8.5.0"}).status_code == 302
    page = client.get("/")
    assert page.status_code == 200
    rows = {
        re.search(r"/c/([\w-]+)</a>", row).group(1): re.findall(r'<td class="num">(\d+)</td>', row)
        for row in re.findall(r"<tr>(.*?)</tr>", page.get_data(as_text=True), flags=re.S)
        if "/c/" in row
    }
    # clicks, unique, bots and previews, leads, sales
    assert rows == {
        "demo-dist": ["1", "1", "1", "0", "0"],
        "demo-resell": ["0", "0", "0", "0", "0"],
        "demo-aff": ["0", "0", "0", "0", "0"],
    }
    assert "Northwind Distribution" in page.get_data(as_text=True)


def test_the_demo_landing_page_signs_its_lead_so_it_needs_no_review(app, time_machine):
    summary = run_demo(app)
    client = app.test_client()
    location = client.get("/c/demo-aff", headers={"User-Agent": CHROME}).headers["Location"]
    html = client.get(location.removeprefix(summary["base_url"])).get_data(as_text=True)
    order_id, sig = re.search(r"order_id: '(DEMO-[0-9a-f]+)', sig: '([0-9a-f]{64})'", html).groups()
    token = parse_qs(urlsplit(location).query)["atk"][0]
    time_machine.move_to(T0.replace(minute=5), tick=False)  # the visitor took a while to fill the form
    query = {"event": "lead", "order_id": order_id, "sig": sig, "email": "anna@fabrikam.example", "atk": token}
    assert client.get("/p/demo-crm.gif", query_string=query).status_code == 200
    conversion = db.session.scalar(select(Conversion))
    assert (conversion.order_id, conversion.status, conversion.review_reasons) == (order_id, "pending", [])
    assert db.session.scalar(select(PixelError)) is None
