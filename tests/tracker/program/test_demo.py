"""The demo program a newcomer starts with: printed as JSON, repeatable, and its links work."""

from __future__ import annotations

import json

from sqlalchemy import func, select

from core.db import db
from tracker.program.models import Link, Partner


def run_demo(app) -> dict:
    result = app.test_cli_runner().invoke(args=["demo", "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_demo_prints_keys_links_and_a_distributor_above_a_reseller(app):
    summary = run_demo(app)
    kinds = {p["kind"]: p for p in summary["partners"]}
    assert kinds["reseller"]["parent_id"] == kinds["distributor"]["id"]
    assert set(summary["keys"]) == {"admin", "finance", "advertiser"}
    client = app.test_client()
    for partner in summary["partners"]:
        assert client.get(partner["link_url"].removeprefix(summary["base_url"])).status_code == 302
    stats = client.get("/api/v1/stats", headers={"Authorization": f"Bearer {kinds['reseller']['key']}"})
    assert stats.status_code == 200 and stats.json["totals"]["clicks"] == 1


def test_running_demo_again_keeps_the_program_and_replaces_the_keys(app):
    first, second = run_demo(app), run_demo(app)
    assert db.session.scalar(select(func.count()).select_from(Partner)) == 3
    assert db.session.scalar(select(func.count()).select_from(Link)) == 3
    client = app.test_client()
    old = client.get("/api/v1/offers", headers={"Authorization": f"Bearer {first['keys']['admin']}"})
    new = client.get("/api/v1/offers", headers={"Authorization": f"Bearer {second['keys']['admin']}"})
    assert (old.status_code, new.status_code) == (401, 200)


def test_landing_page_shows_the_reference_code(app):
    summary = run_demo(app)
    client = app.test_client()
    location = client.get("/c/demo-aff").headers["Location"]
    page = client.get(location.removeprefix(summary["base_url"])).get_data(as_text=True)
    assert "signature valid" in page and 'class="ref"' in page


def test_overview_page_lists_links_with_counts(app):
    run_demo(app)
    app.test_client().get("/c/demo-dist")
    page = app.test_client().get("/").get_data(as_text=True)
    assert "/c/demo-dist" in page and "Northwind Distribution" in page
