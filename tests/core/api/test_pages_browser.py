"""An admin creates an API key, copies it, and revokes it in a real browser (Debian's Chromium through Playwright).

Screenshots of each step go to tests/artifacts/screens/ (not committed).
"""

from __future__ import annotations

import pytest

from tests.browser import screenshot, signed_in_page
from tests.core.people.conftest import cheap_hashes, compiled_catalogues, fresh_request_globals  # noqa: F401
from tests.core.people.helpers import make_person
from tests.factories import PartnerFactory

pytestmark = pytest.mark.usefixtures("compiled_catalogues")


def shot(page, name: str) -> None:
    screenshot(page, f"keys-{name}")


@pytest.mark.parametrize("app", ["sqlite"], indirect=True)
def test_an_admin_creates_a_key_and_revokes_it(app, browser, site):
    partner = PartnerFactory(name="Fabrikam Reviews")
    make_person("admin", email="ops@handoff.example")
    page = signed_in_page(browser, site, "ops@handoff.example")
    page.click("#admin-keys")
    page.wait_for_url(f"{site}/admin/keys")
    assert "No keys yet." in page.text_content("main")

    page.select_option("#role", "partner")
    page.select_option("#partner_id", str(partner.id))
    page.fill("#label", "Fabrikam's shop")
    shot(page, "1-create")
    page.click("#create-key button[type=submit]")
    page.wait_for_load_state()
    plaintext = page.input_value("#new-key")
    assert plaintext.startswith("hk_par_")
    assert page.is_visible("#copy-key")
    shot(page, "2-created")
    api = app.test_client()
    assert api.get("/api/v1/links", headers={"Authorization": f"Bearer {plaintext}"}).status_code == 200

    page.click("text=Back to the keys")
    page.wait_for_url(f"{site}/admin/keys")
    row = page.locator("#keys tbody tr").first
    assert "Fabrikam Reviews" in row.text_content() and plaintext not in page.content()
    shot(page, "3-list")
    messages: list[str] = []
    page.once("dialog", lambda dialog: (messages.append(dialog.message), dialog.accept()))
    row.locator("button", has_text="Revoke").click()
    page.wait_for_url(f"{site}/admin/keys?revoked=*")
    assert messages and "cannot be undone" in messages[0]
    assert "is revoked" in page.text_content("#key-revoked")
    assert "revoked" in page.locator("#keys tbody tr").first.text_content()
    shot(page, "4-revoked")
    assert api.get("/api/v1/links", headers={"Authorization": f"Bearer {plaintext}"}).status_code == 401

    page.click("button[name=lang][value=ru]")
    page.wait_for_load_state()
    assert page.text_content("h1") == "Ключи API"
    shot(page, "5-list-ru")
