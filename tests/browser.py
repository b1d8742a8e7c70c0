"""What the browser tests share: Debian's chromium through Playwright, the app served on loopback, screenshots.

The fixtures are imported by the test modules that drive a browser; nothing here downloads a browser or
talks to anything but 127.0.0.1.
"""

from __future__ import annotations

import shutil
import threading

import pytest
from werkzeug.serving import make_server

from core.settings import PROJECT_ROOT
from tests.conftest import require_service
from tests.core.people.helpers import PASSWORD
from tests.tracker.helpers import CHROME

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
SCREENS = PROJECT_ROOT / "tests" / "artifacts" / "screens"
# No background traffic of the browser's own (updates, sync, QUIC probes) leaves the machine.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture
def browser():
    require_service(CHROMIUM is not None, "Debian's chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


def serve_in_thread(server):
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.fixture
def site(app):
    """The app on a loopback port, for the browser."""
    server = serve_in_thread(make_server("127.0.0.1", 0, app, threaded=True))
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


def screenshot(page, name: str) -> None:
    """Save the whole page as tests/artifacts/screens/<name>.png (not committed) for a person to look at."""
    SCREENS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENS / f"{name}.png"), full_page=True)


def signed_in_page(browser, site: str, email: str, password: str = PASSWORD, **context):
    """A new page in a fresh context (desktop Chrome, British English), signed in as ``email`` through /login."""
    page = browser.new_context(user_agent=CHROME, locale="en-GB", **context).new_page()
    page.goto(f"{site}/login")
    page.fill("#email", email)
    page.fill("#password", password)
    page.keyboard.press("Enter")
    page.wait_for_url(f"{site}/portal")
    return page
