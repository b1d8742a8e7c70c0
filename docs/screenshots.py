"""Screenshots of the portal's main pages for the README, taken from a real server in a real browser.

Run by hand: ``.venv/bin/python docs/screenshots.py``. It builds a throwaway SQLite instance with the demo
program (``flask --app app demo --json``), serves it with gunicorn on a free loopback port, makes some
traffic through the public endpoints (clicks on a partner link, leads and sales by the advertiser's key) so
the pages have something to show, then signs in as each demo person in Debian's chromium (Playwright) and
writes docs/screens/<role>-<page>.png (``-ru`` for Russian), 1280x800 viewport shots. Nothing but
127.0.0.1 is contacted; the server is stopped at the end, on error too.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from datetime import date
from decimal import Decimal
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import requests
from playwright.sync_api import Page, sync_playwright

ROOT = Path(__file__).resolve().parent.parent
SCREENS = ROOT / "docs" / "screens"
HOST = "127.0.0.1"
CHROMIUM = "/usr/bin/chromium"
# As tests/browser.py: no background traffic of the browser's own (updates, sync, QUIC probes) leaves the machine.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VIEWPORT = {"width": 1280, "height": 800}
# Shots are viewport-sized; a PNG of a text page this size is well under this, and a warning says if not.
SIZE_BUDGET = 250_000
SHOT_PARTNER = "demo-resell"
# Real browsers' User-Agent strings: a link's visitors are not all on one browser, and the dashboard's
# device, OS and browser breakdowns should show that.
BROWSERS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36",
    "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.5 Safari/605.1.15",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.5 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.6478.122 "
    "Mobile Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 "
    "Safari/537.36 Edg/126.0.2592.87",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 "
    "Safari/537.36",
)
# Leads and sales (amount in EUR) for the partner whose pages are shot, and for each other demo partner.
SHOT_CONVERSIONS = [("lead", None)] * 6 + [("sale", "490.00"), ("sale", "890.00"), ("sale", "2400.00")]
OTHER_CONVERSIONS = [("lead", None), ("lead", None), ("sale", "390.00")]
MIN_SECONDS_AFTER_CLICK = 11
PLAN = {
    "currency": "EUR",
    "events": {"lead": {"flat": "20.00"}, "sale": {"percent": "10"}},
    "parent_override": {"percent": "2", "of": "sale", "events": ["sale"]},
}


def say(line: str) -> None:
    print(line, flush=True)  # noqa: T201 (a script run by hand reports what it wrote)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def server_env(instance: Path, port: int) -> dict[str, str]:
    """The embedded default (SQLite, no Redis), as ``make start`` runs it, in a throwaway instance folder."""
    env = {key: value for key, value in os.environ.items() if key not in ("HANDOFF_ENV", "REDIS_URL")}
    env.update(
        HANDOFF_INSTANCE_PATH=str(instance),
        DATABASE_URL=f"sqlite:///{instance / 'handoff.db'}",
        SECRET_KEY="screenshots-" + os.urandom(24).hex(),
        PUBLIC_BASE_URL=f"http://{HOST}:{port}",
        NO_PROXY="*",
        TRUSTED_PROXY_COUNT="1",
    )
    return env


def flask_cli(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "app", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    if done.returncode != 0:
        sys.exit(f"flask {' '.join(args)} failed:\n{done.stderr[-3000:]}")
    return done.stdout


def start_server(env: dict[str, str], port: int, log: Path) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "gunicorn", "--workers", "2", "--bind", f"{HOST}:{port}", "app:app"]
    with open(log, "wb") as out:
        # A session of its own, so stop_server ends gunicorn and its workers by this one group id.
        return subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)


def wait_healthy(proc: subprocess.Popen, http: requests.Session, base: str, log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            sys.exit(f"gunicorn exited ({proc.returncode}):\n{log.read_text()[-3000:]}")
        try:
            if http.get(f"{base}/healthz", timeout=2).status_code == 200:
                return
        except (requests.ConnectionError, requests.Timeout):  # up, but its workers still loading the app
            pass
        time.sleep(0.3)
    sys.exit("gunicorn did not answer /healthz within 60 s")


def stop_server(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=15)
    except ProcessLookupError:
        return
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=5)


def loopback_session() -> requests.Session:
    http = requests.Session()
    http.trust_env = False  # no proxy from the environment: every request goes straight to 127.0.0.1
    return http


def api(http: requests.Session, base: str, key: str, method: str, path: str, body: dict) -> dict:
    answer = http.request(method, f"{base}{path}", json=body, headers={"Authorization": f"Bearer {key}"}, timeout=30)
    if answer.status_code >= 400:
        sys.exit(f"{method} {path} answered {answer.status_code}: {answer.text[:500]}")
    return answer.json()


def visitor_address(number: int) -> str:
    """Documentation addresses (RFC 5737, RFC 3849), never routable: many networks, as real visitors come from.

    Every fifth click repeats the visitor before it, so unique clicks fall a little short of clicks.
    """
    number -= number % 5 == 4
    if number % 2:
        return f"{('198.51.100', '203.0.113', '192.0.2')[number % 3]}.{10 + number}"
    return f"2001:db8:{number:x}::7"


def click_tokens(http: requests.Session, base: str, code: str, clicks: int, token_param: str) -> list[str]:
    """Visit the partner link as assorted browsers; the redirect's Location carries each click's token."""
    tokens = []
    for number in range(clicks):
        headers = {
            "User-Agent": BROWSERS[(number - (number % 5 == 4)) % len(BROWSERS)],
            # Read because the server trusts one proxy (TRUSTED_PROXY_COUNT=1), as behind a reverse proxy.
            "X-Forwarded-For": visitor_address(number),
        }
        answer = http.get(f"{base}/c/{code}", headers=headers, allow_redirects=False, timeout=10)
        if answer.status_code != 302:
            sys.exit(f"/c/{code} answered {answer.status_code}: {answer.text[:300]}")
        tokens += parse_qs(urlsplit(answer.headers["Location"]).query).get(token_param, [])
    return tokens


def make_activity(http: requests.Session, base: str, demo: dict) -> None:
    """Clicks, leads and sales through the real endpoints, and a commission plan so they earn something."""
    offer, advertiser = demo["offer"], demo["keys"]["advertiser"]
    plan_path = f"/api/v1/offers/{offer['id']}/commission-plan"
    if http.get(f"{base}{plan_path}", headers={"Authorization": f"Bearer {advertiser}"}, timeout=10).status_code == 404:
        # A demo without a commission plan accrues nothing, and the commission pages would stay empty.
        api(http, base, advertiser, "PUT", plan_path, {"plan": PLAN})
    # The 2,400.00 sale below is above this ceiling and held for review, so the review queue has a row to show.
    ceiling = {"review_above_amount": "1000.00", "review_above_currency": "EUR"}
    token_param = api(http, base, advertiser, "PATCH", f"/api/v1/offers/{offer['id']}", ceiling)["token_param"]
    tokens = {
        partner["link_code"]: click_tokens(
            http, base, partner["link_code"], 24 if partner["link_code"] == SHOT_PARTNER else 6, token_param
        )
        for partner in demo["partners"]
    }
    # A conversion within seconds of its click is held as implausibly fast (tracker/attribution/carriers.py).
    time.sleep(MIN_SECONDS_AFTER_CLICK)
    sent = 0
    for code, partner_tokens in tokens.items():
        wanted = SHOT_CONVERSIONS if code == SHOT_PARTNER else OTHER_CONVERSIONS
        for token, (event, amount) in zip(partner_tokens, wanted, strict=False):
            sent += 1
            body = {"offer": offer["slug"], "event": event, "order_id": f"DEMO-{sent:04d}", "token": token}
            if amount:
                body |= {"amount": amount, "currency": "EUR"}
            api(http, base, advertiser, "POST", "/api/v1/conversions", body)
    say(f"activity: {sum(map(len, tokens.values()))} clicks, {sent} conversions carrying their click tokens")


def approved_money(http: requests.Session, base: str, finance_key: str) -> bool:
    balances = http.get(f"{base}/api/v1/balances", headers={"Authorization": f"Bearer {finance_key}"}, timeout=10)
    return any(Decimal(row["approved"]) > 0 for row in balances.json().get("items", []))


class Camera:
    """Signs people in and writes the shots, each a 1280x800 viewport PNG."""

    def __init__(self, browser, base: str, out: Path, full_page: bool) -> None:
        self.browser, self.base, self.out, self.full_page = browser, base, out, full_page
        self.written: list[Path] = []

    def page(self) -> Page:
        context = self.browser.new_context(viewport=VIEWPORT, locale="en-GB")
        return context.new_page()

    def sign_in(self, person: dict) -> Page:
        page = self.page()
        page.goto(f"{self.base}/login")
        page.fill("#email", person["email"])
        page.fill("#password", person["password"])
        page.click("form[action='/login'] button[type=submit]")
        page.wait_for_url(f"{self.base}/portal**")
        return page

    def visit(self, page: Page, path: str) -> None:
        answer = page.goto(f"{self.base}{path}")
        if answer is None or answer.status >= 400:
            say(f"warning: {path} answered {answer.status if answer else 'nothing'}")

    def shoot(self, page: Page, name: str) -> None:
        page.wait_for_load_state("networkidle")
        path = self.out / f"{name}.png"
        page.screenshot(path=str(path), type="png", full_page=self.full_page)
        shrink(path)
        self.written.append(path)
        size = path.stat().st_size
        say(f"{path}  {size / 1024:.0f} KB{'  (over budget)' if size > SIZE_BUDGET else ''}")

    def shoot_from(self, page: Page, selector: str, name: str) -> None:
        """A shot of the viewport scrolled so that ``selector`` is at its top: a part below the fold."""
        page.locator(selector).evaluate("element => element.scrollIntoView({block: 'start'})")
        self.shoot(page, name)

    def switch_language(self, page: Page, lang: str) -> None:
        page.click(f"form.lang-switch button[name=lang][value={lang}]")
        page.wait_for_load_state()


def shrink(path: Path) -> None:
    """With Pillow at hand, a 256-colour palette; without it (it is not a requirement) the PNG stays as taken."""
    try:
        from PIL import Image
    except ImportError:
        return
    with Image.open(path) as image:
        small = image.convert("RGB").quantize(colors=256)
    small.save(path, optimize=True)


def person(demo: dict, email: str) -> dict:
    return next(p for p in demo["people"] if p["email"] == email)


def shoot_partner(camera: Camera, demo: dict) -> None:
    page = camera.sign_in(person(demo, f"{SHOT_PARTNER}@partner.example"))
    for name in ("dashboard", "links", "banners", "commissions"):
        camera.visit(page, f"/portal/{name}")
        camera.shoot(page, f"partner-{name}")
        if name == "dashboard":
            # The daily chart is below the fold of the 1280x800 viewport: a shot of its own.
            camera.shoot_from(page, "#chart-title", "partner-dashboard-chart")
    camera.visit(page, "/portal/dashboard")
    camera.switch_language(page, "ru")
    camera.shoot(page, "partner-dashboard-ru")


def shoot_advertiser(camera: Camera, demo: dict) -> None:
    page = camera.sign_in(person(demo, "advertiser@vendor.example"))
    camera.visit(page, f"/portal/offers/{demo['offer']['id']}")
    camera.shoot(page, "advertiser-offer")
    camera.shoot_from(page, "#snippets", "advertiser-offer-snippets")
    camera.visit(page, "/portal/review")
    camera.shoot(page, "advertiser-review")


def shoot_finance(camera: Camera, demo: dict, has_approved: bool) -> None:
    page = camera.sign_in(person(demo, "finance@handoff.example"))
    camera.visit(page, "/portal/batches")
    camera.shoot(page, "finance-batches")
    if not has_approved:
        say("no approved commissions yet (the demo offer's hold period): no batch built")
        return
    page.fill("#period_end", date.today().isoformat())
    page.fill("#currency", "EUR")
    page.click("#create-batch button[type=submit]")
    page.wait_for_url(f"{camera.base}/portal/batches/*")
    camera.shoot(page, "finance-batch")


def apply_once(camera: Camera) -> None:
    page = camera.page()
    camera.visit(page, "/apply")
    page.fill("#company", "Tailspin Toys GmbH")
    page.fill("#contact_name", "Jana Richter")
    page.fill("#email", "jana@tailspin.example")
    page.select_option("#kind", "reseller")
    page.select_option("#country", "DE")
    page.fill("#tax_id", "DE136695976")
    page.fill("#website", "https://tailspin.example")
    page.fill("#promotion", "A monthly newsletter to 4,000 IT managers in DACH, and a comparison page for CRMs.")
    page.click("#apply button[type=submit]")
    page.wait_for_load_state()
    page.context.close()


def shoot_admin(camera: Camera, demo: dict) -> None:
    apply_once(camera)
    page = camera.sign_in(person(demo, "admin@handoff.example"))
    camera.visit(page, "/admin/keys")
    camera.shoot(page, "admin-keys")
    camera.visit(page, "/admin/applications")
    camera.shoot(page, "admin-applications")


def shoot_login(camera: Camera) -> None:
    page = camera.page()
    camera.visit(page, "/login")
    camera.shoot(page, "login")
    camera.switch_language(page, "ru")
    camera.shoot(page, "login-ru")
    camera.switch_language(page, "en")


def take_screenshots(base: str, demo: dict, has_approved: bool, out: Path, full_page: bool) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            camera = Camera(browser, base, out, full_page)
            shoot_login(camera)
            shoot_partner(camera, demo)
            shoot_advertiser(camera, demo)
            shoot_finance(camera, demo, has_approved)
            shoot_admin(camera, demo)
        finally:
            browser.close()
    return camera.written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--full-page",
        metavar="DIR",
        type=Path,
        help="write whole-page shots to DIR instead, to review what is below the fold (they may be large)",
    )
    args = parser.parse_args()
    out = args.full_page or SCREENS
    instance = Path(tempfile.mkdtemp(prefix="handoff-screenshots-"))
    port = free_port()
    base = f"http://{HOST}:{port}"
    env = server_env(instance, port)
    flask_cli(env, "migrate")
    demo = json.loads(flask_cli(env, "demo", "--json"))
    log = instance / "gunicorn.log"
    server = start_server(env, port, log)
    try:
        http = loopback_session()
        wait_healthy(server, http, base, log)
        make_activity(http, base, demo)
        # What the worker does once a minute under `make start`: approve what its hold (if any) lets through.
        say(flask_cli(env, "payouts", "approve-due").strip())
        has_approved = approved_money(http, base, demo["keys"]["finance"])
        written = take_screenshots(base, demo, has_approved, out.resolve(), args.full_page is not None)
    finally:
        stop_server(server)
    say(f"{len(written)} screenshots in {out}/ (server log: {log})")


if __name__ == "__main__":
    main()
