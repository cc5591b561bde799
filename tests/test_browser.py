"""End to end in headless Chromium: the real server, the sidebar navigation, every page, charts drawn.

Starts `streamlit run streamlit_app.py` on a free localhost port and drives the system Chromium with Playwright
(never `playwright install`). Screenshots go to assets/screenshots/ (the README shows them). Skipped when Chromium
or Playwright is missing, except in CI (CI=true), where that is a failure.
"""

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from app.lessons import available_lessons, lessons_by_section
from benchmarks.first_view import VISIBLE_CHART
from benchmarks.first_view import wait_idle as _wait_until_idle

ROOT = Path(__file__).resolve().parent.parent
SHOTS = ROOT / "assets" / "screenshots"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
pytestmark = pytest.mark.browser

# Lessons whose first tab shows nothing until the student presses ▶ Start (pages never train on first load).
TRAINS_FIRST = {"lora", "kv_cache", "moe"}


def _require_browser():
    missing = []
    if not Path(CHROMIUM).exists() and not shutil.which("chromium"):
        missing.append("chromium (apt-get install -y chromium)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        missing.append("playwright (pip install playwright)")
    if missing:
        if os.environ.get("CI"):
            pytest.fail("browser test prerequisites missing in CI: " + ", ".join(missing))
        pytest.skip("needs " + ", ".join(missing))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(smollm2):  # smollm2: the model cache is warm before the app loads it
    _require_browser()
    port = _free_port()
    env = dict(os.environ, HF_HUB_OFFLINE="1", STREAMLIT_BROWSER_GATHER_USAGE_STATS="false")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            "streamlit_app.py",
            "--server.port",
            str(port),
            "--server.address",
            "127.0.0.1",
            "--server.headless",
            "true",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            if urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).status == 200:
                break
        except OSError:
            time.sleep(0.5)
    else:
        proc.kill()
        pytest.fail("streamlit did not start:\n" + (proc.stdout.read() if proc.stdout else ""))
    yield url
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()


@pytest.fixture(scope="module")
def browser():
    _require_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=CHROMIUM if Path(CHROMIUM).exists() else shutil.which("chromium"),
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield browser
        browser.close()


def _nav_links(page, expected: list[str], timeout_s: float = 30) -> list[str]:
    """Sidebar link texts (icons dropped), polled until they equal `expected` or the time is up."""
    nav = page.locator("[data-testid='stSidebarNav']")
    deadline = time.time() + timeout_s
    while True:
        links = sorted(t.strip().splitlines()[-1] for t in nav.locator("a").all_inner_texts())
        if links == expected or time.time() > deadline:
            return links
        time.sleep(0.5)


def test_deep_link_on_a_fresh_server_gets_our_navigation(server, browser):
    """The first request this server sees is a deep link (this test runs first in the module)."""
    lesson = available_lessons()[-1]
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(f"{server}/{lesson.slug}")
    _wait_until_idle(page)
    expected = sorted(["Home"] + [lesson.title for lesson in available_lessons()])
    assert _nav_links(page, expected) == expected
    assert lesson.title in page.locator("h1").first.inner_text()
    page.close()


def test_sidebar_shows_exactly_our_navigation(server, browser):
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(server)
    _wait_until_idle(page)
    expected = sorted(["Home"] + [lesson.title for lesson in available_lessons()])
    # before the script runs, the browser briefly shows Streamlit's automatic list of pages/; ours replaces it
    assert _nav_links(page, expected) == expected
    headers = page.locator("[data-testid='stSidebarNav']").inner_text()
    for section in lessons_by_section():
        assert section in headers
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.wait_for_selector("[data-testid='stSelectbox']", timeout=30_000)
    time.sleep(2)  # let the widgets and cards finish drawing before the README screenshot
    page.screenshot(path=str(SHOTS / "home.png"), full_page=True)
    page.close()


@pytest.mark.parametrize("lesson", available_lessons(), ids=lambda lesson: lesson.slug)
def test_lesson_page_in_chromium(server, browser, lesson):
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(f"{server}/{lesson.slug}")
    _wait_until_idle(page)
    assert page.locator("[data-testid='stException']").count() == 0, page.inner_text("body")[:2000]
    if lesson.slug in TRAINS_FIRST:  # nothing to draw before ▶ Start
        page.get_by_role("button", name="Start").first.wait_for(timeout=60_000)
    else:
        page.locator(VISIBLE_CHART).first.wait_for(
            timeout=60_000
        )  # charts in other tabs are hidden
    time.sleep(2)
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{lesson.slug}.png"), full_page=False)
    page.close()


def test_url_state_reproduces_the_view(server, browser):
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(f"{server}/next_token?nt_topk=5&nt_temp=0.5")
    _wait_until_idle(page)
    page.locator(VISIBLE_CHART).first.wait_for(timeout=60_000)
    body = page.inner_text("body")
    assert "Tokens that can be sampled" in body
    metric = page.locator("[data-testid='stMetricValue']").first.inner_text()
    assert metric.strip() == "5"
    page.goto(f"{server}/next_token?next_token.top_k=3&next_token.temperature=0.5")  # today's names
    _wait_until_idle(page)
    page.locator(VISIBLE_CHART).first.wait_for(timeout=60_000)
    metric = page.locator("[data-testid='stMetricValue']").first.inner_text()
    assert metric.strip() == "3"
    page.close()
