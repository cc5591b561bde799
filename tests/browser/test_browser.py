"""End to end in headless Chromium: the real server, the sidebar navigation, every page, charts drawn.

Starts `streamlit run app/entry/streamlit_app.py` on a free localhost port and drives the system Chromium with Playwright
(never `playwright install`). Screenshots go to test-artifacts/screenshots/, or to the README's assets/screenshots/ with
NLP_PLAYGROUND_SCREENSHOTS=assets/screenshots. Skipped when Chromium
or Playwright is missing, except in CI (CI=true), where that is a failure.
"""

import os
import time
from pathlib import Path

import pytest

from app.lessons import available_lessons, lessons_by_section
from benchmarks.first_view import VISIBLE_CHART
from benchmarks.first_view import wait_idle as _wait_until_idle
from tests.conftest import settle

ROOT = Path(__file__).resolve().parents[2]
# the README's screenshots are rewritten only when asked (NLP_PLAYGROUND_SCREENSHOTS=assets/screenshots)
SHOTS = ROOT / os.environ.get("NLP_PLAYGROUND_SCREENSHOTS", "test-artifacts/screenshots")
pytestmark = pytest.mark.browser

# Lessons whose first tab shows nothing until the student presses ▶ Start (pages never train on first load).
TRAINS_FIRST: set[str] = set()  # lessons whose first view waits for ▶ Start: none (every lesson draws a chart at once)


def _nav_links(page, expected: list[str], timeout_s: float = 30) -> list[str]:
    """Sidebar link texts (icons dropped), polled until they equal `expected` or the time is up."""
    nav = page.locator("[data-testid='stSidebarNav']")
    deadline = time.time() + timeout_s
    while True:
        links = sorted(t.strip().splitlines()[-1] for t in nav.locator("a").all_inner_texts())
        if links == expected or time.time() > deadline:
            return links
        time.sleep(0.2)


def test_deep_link_on_a_fresh_server_gets_our_navigation(fresh_server, browser):
    """The first request this server sees is a deep link (to a lesson that loads no pretrained model: what is
    tested is the navigation around it, not how long a model takes to load on a cold server)."""
    lesson = next(item for item in available_lessons() if item.slug == "translation")
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(f"{fresh_server}/{lesson.slug}")
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
    settle(page)  # the widgets and cards drawn before the README screenshot
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
        page.locator(VISIBLE_CHART).first.wait_for(timeout=60_000)  # charts in other tabs are hidden
    settle(page)
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{lesson.slug}.png"), full_page=False)
    page.close()


def test_url_state_reproduces_the_view(server, browser):
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(f"{server}/next_token?next_token.top_k=5&next_token.temperature=0.5")
    _wait_until_idle(page)
    page.locator(VISIBLE_CHART).first.wait_for(timeout=60_000)
    body = page.inner_text("body")
    assert "Tokens that can be sampled" in body
    metric = page.locator("[data-testid='stMetricValue']").first.inner_text()
    assert metric.strip() == "5"
    page.goto(f"{server}/next_token?next_token.top_k=3&next_token.temperature=0.5")
    _wait_until_idle(page)
    page.locator(VISIBLE_CHART).first.wait_for(timeout=60_000)
    metric = page.locator("[data-testid='stMetricValue']").first.inner_text()
    assert metric.strip() == "3"
    page.close()
