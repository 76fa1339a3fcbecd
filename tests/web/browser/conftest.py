"""A live server and Debian's Chromium for the web app's browser journeys.

The app (create_app with the session's settings, its own task queue and worker) runs under uvicorn in a thread on
a free port; Playwright drives /usr/bin/chromium headless (never `playwright install`). Without Chromium these
tests fail: CI must prove them. Screenshots go to .artifacts/screenshots (git-ignored), named in the summary."""

import json
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

from api.main import create_app
from core.settings import Settings

ROOT = Path(__file__).resolve().parents[3]
SCREENSHOTS = ROOT / ".artifacts" / "screenshots"
CHROMIUM = Path("/usr/bin/chromium")
# RECIPES §4: the closed network makes Chromium's background calls fail, so they are off.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]  # fmt: skip
AXE = (Path(__file__).resolve().parents[1] / "vendor" / "axe-core" / "axe.min.js").read_text()


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if SCREENSHOTS.exists() and any(SCREENSHOTS.iterdir()):
        terminalreporter.write_line(f"web app screenshots: {SCREENSHOTS}")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def live_url(settings: Settings) -> Iterator[str]:
    """The web app served over HTTP by uvicorn in a background thread."""
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    live = settings.model_copy(
        update={
            "founder_email": "founder@levqor.test",
            "task_queue": f"live-{uuid.uuid4()}",
            "web_base_url": url,
            "sign_in_links_per_ip": 10_000,
            "sign_in_links_per_email": 1_000,  # the founder signs in from many journeys in one run
            "panel_poll_s": 1,  # journeys watch the panel's live parts change: every second, not every 5
        }  # fmt: skip
    )
    server = uvicorn.Server(uvicorn.Config(create_app(live), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the live server did not start"
        time.sleep(0.05)
    yield url
    server.should_exit = True
    thread.join(timeout=15)


@pytest.fixture(scope="module")
def browser(live_url: str) -> Iterator[Browser]:
    """Chromium for one test module, started after the live server. Playwright's sync API runs an event loop of its
    own on this thread while it is started: async fixtures must be set up before it (the live server's are), and it
    stops with the module so that the async tests after it can run their loop again."""
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: scripts/test.sh installs Debian's chromium (apt-get install chromium)")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def context(browser: Browser, live_url: str) -> Iterator[BrowserContext]:
    """A fresh browser profile (cookies, storage); CSP bypassed only so the test can inject axe-core."""
    context = browser.new_context(base_url=live_url, bypass_csp=True, viewport={"width": 1280, "height": 800})
    yield context
    context.close()


@pytest.fixture
def page(context: BrowserContext) -> Page:
    return context.new_page()


def shot(page: Page, name: str, full_page: bool = True) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path


def serious_violations(page: Page) -> list[dict[str, Any]]:
    """axe-core's serious and critical WCAG 2.1 A/AA violations on the page as it is now."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.add_script_tag(content=AXE)
    found = page.evaluate(
        """async () => (await axe.run(document, {runOnly: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}))
            .violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                                   targets: v.nodes.map(n => n.target.join(' ')).slice(0, 5)}))"""
    )
    return [v for v in found if v["impact"] in ("serious", "critical")]


def check_page(page: Page, name: str) -> None:
    """Screenshots the page and fails on any serious or critical accessibility violation."""
    shot(page, name)
    violations = serious_violations(page)
    assert violations == [], json.dumps(violations, indent=2)
