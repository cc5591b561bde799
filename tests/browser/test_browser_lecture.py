"""Lecture-ready, measured in headless Chromium: presenter mode on a 1280x720 projector, and every preset
landing on the tab where its point shows.

Uses the server and browser of tests/conftest.py (a real `streamlit run` per worker).
"""

import importlib
import re
import time

import pytest

from app.lessons import available_lessons
from app.page import tab_name
from tests.browser.test_browser import TRAINS_FIRST, VISIBLE_CHART, _wait_until_idle
from tests.conftest import settle

pytestmark = pytest.mark.browser
PROJECTOR = {"width": 1280, "height": 720}


def _text_px(page, selector: str) -> list[float]:
    """Computed font sizes (px) of the visible elements under `selector` that hold text themselves: the size the
    text is drawn at, not its container's."""
    return page.eval_on_selector_all(
        selector,
        """roots => roots.flatMap(r => [r, ...r.querySelectorAll('*')])
            .filter(e => e.offsetParent !== null
                && [...e.childNodes].some(n => n.nodeType === 3 && n.textContent.trim()))
            .map(e => parseFloat(getComputedStyle(e).fontSize))""",
    )


def _px(page, selector: str) -> list[float]:
    """Computed font sizes (px) of the visible elements matching `selector` in the main area."""
    return page.eval_on_selector_all(
        selector,
        "els => els.filter(e => e.offsetParent !== null).map(e => parseFloat(getComputedStyle(e).fontSize))",
    )


@pytest.mark.parametrize("lesson", available_lessons(), ids=lambda lesson: lesson.slug)
def test_presenter_mode_on_a_projector(server, browser, lesson):
    """Text, metrics and chart labels readable from the back of a room, and the first chart (or, on a lesson whose
    first tab trains before it draws anything, the ▶ Start button) above the fold of a 1280x720 projector."""
    page = browser.new_page(viewport=PROJECTOR)
    page.goto(f"{server}/{lesson.slug}?presenter=true")
    _wait_until_idle(page)
    if lesson.slug in TRAINS_FIRST:
        first = page.get_by_role("button", name="Start").first
    else:
        first = page.locator(VISIBLE_CHART).first
    first.wait_for(timeout=90_000)  # the first view is drawn (a model may load first)
    settle(page)
    body = _px(page, "[data-testid='stMain'] [data-testid='stMarkdownContainer'] p")
    assert body and min(body) >= 20, f"body text {sorted(set(body))} px"
    metrics = _text_px(page, "[data-testid='stMain'] [data-testid='stMetricValue']")
    assert not metrics or min(metrics) >= 40, f"metric values {sorted(set(metrics))} px"
    tabs = _px(page, "[data-testid='stMain'] [role='tab'] p")
    assert tabs and min(tabs) >= 20, f"tab labels {sorted(set(tabs))} px"
    page.screenshot(path=f"/tmp/presenter-{lesson.slug}.png")
    top = first.bounding_box()["y"]
    assert top < PROJECTOR["height"], f"the first chart or ▶ Start is at {top:.0f} px, below the fold"
    if lesson.slug in TRAINS_FIRST:
        assert page.locator(VISIBLE_CHART).count() == 0, "no longer trains first: drop it from TRAINS_FIRST"
        page.close()
        return
    chart = first
    ticks = chart.locator(".xtick text, .ytick text, .legendtext")
    sizes = [float(s.rstrip("px")) for s in ticks.evaluate_all("els => els.map(e => e.style.fontSize)")]
    assert sizes and min(sizes) >= 16, f"chart text {sorted(set(sizes))} px"
    page.close()


def test_presenter_mode_draws_tables_a_room_can_read(server, browser):
    """A dataframe is drawn on a canvas at ~14 px that no CSS reaches: in presenter mode a result table is an HTML
    table whose text is drawn at >= 20 px (n-grams' first view: the next-word table, no training)."""
    page = browser.new_page(viewport=PROJECTOR)
    page.goto(f"{server}/ngrams?presenter=true")
    _wait_until_idle(page)
    table = page.locator("[data-testid='stMain'] [data-testid='stTable']").first
    table.wait_for(timeout=90_000)
    table.scroll_into_view_if_needed()
    settle(page)
    page.screenshot(path="/tmp/presenter-ngrams-table.png")
    cells = _text_px(page, "[data-testid='stMain'] [data-testid='stTable']")
    assert cells and min(cells) >= 20, f"table text {sorted(set(cells))} px"
    assert "population" in table.inner_text()  # the next words after "of the", as the dataframe showed them
    assert page.locator("[data-testid='stMain'] [data-testid='stDataFrame']").count() == 0
    page.close()


def test_presenter_mode_moe_chart_above_the_fold_after_a_step(server, browser):
    """After ⏭ Step on a projector, the MoE lesson's first chart starts above the fold (it sat at y = 763, under
    the model's description and the results table): the description folds away and the table follows the chart."""
    page = browser.new_page(viewport=PROJECTOR)
    page.goto(f"{server}/moe?presenter=true")
    _wait_until_idle(page)
    step = page.get_by_role("button", name="⏭ Step").first
    step.wait_for(timeout=90_000)
    step.click()
    page.get_by_text("After step").first.wait_for(timeout=180_000)  # three models trained one chunk
    _wait_until_idle(page)
    first = page.locator(VISIBLE_CHART).first
    first.wait_for(timeout=60_000)
    settle(page)
    page.screenshot(path="/tmp/presenter-moe-step.png")
    assert page.locator("[data-testid='stException']").count() == 0, page.inner_text("body")[:2000]
    top = first.bounding_box()["y"]
    assert top < PROJECTOR["height"], f"the first chart after a step is at {top:.0f} px, below the fold"
    page.close()


# Presets whose click computes for 40-95 s on a 2-core machine running the suite (SmolLM2 answers with and without
# passages, MiniLM indexing every passage, a 100M-token cost model, SmolLM2 evaluations): their browser click and
# reopened link run in the slow suite; the fast suite asserts their numbers on a fresh page in
# tests/pages/test_<slug>_page.py.
SLOW_IN_BROWSER = {
    ("retrieval", "Lecture demo: a distractor"),
    ("retrieval", "Lecture demo: a datastore that"),
    ("retrieval", "Lecture demo: BM25 against"),
    ("retrieval", "Lecture demo: a paraphrase"),
    ("prompting", "Lecture demo: calibration over"),  # 56 s: three order seeds evaluated on SmolLM2
    # 42-75 s in a full run on 4 workers (2026-12-07): SmolLM2 calibration on 24 reviews, perplexity by position
    # under four RoPE scalings, eight SmolLM2 translations with and without a glossary
    ("prompting", "Lecture demo: calibration removes"),
    ("long_context", "Lecture demo: PI blurs"),
    ("translation", "Lecture demo: a glossary"),
}


def _presets():
    """One test per preset; a lesson's presets run on one worker (`xdist_group`), in one browser tab, one after
    another, as a lecturer clicks them: each lands on its tab from wherever the previous one left the page."""
    for lesson in available_lessons():
        package = importlib.import_module(lesson.package)
        for name, preset in getattr(package, "PRESETS", {}).items():
            marks = [pytest.mark.xdist_group(f"presets-{lesson.slug}")]
            if any(lesson.slug == slug and name.startswith(start) for slug, start in SLOW_IN_BROWSER):
                marks.append(pytest.mark.slow)
            yield pytest.param(lesson.slug, name, preset, id=f"{lesson.slug}-{name[:30]}", marks=marks)


@pytest.fixture(scope="session")
def lesson_tabs(server, browser):
    """{slug: an open browser tab on that lesson}, opened on first use, shared by that lesson's preset tests."""
    tabs = {}
    yield tabs
    for page in tabs.values():
        page.close()


def _lesson_tab(tabs, server, browser, slug):
    page = tabs.get(slug)
    if page is None or page.is_closed():
        page = tabs[slug] = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(f"{server}/{slug}")
        _wait_until_idle(page)
    return page


def _css_key(key: str) -> str:
    """The class Streamlit gives a keyed widget's container: st-key-<key>, other characters as '-'."""
    return "st-key-" + re.sub(r"[^a-zA-Z0-9_-]", "-", key.strip())


# What a widget shows: its inputs' values, its checkboxes, its sliders' positions and its text (a select box's choice)
_SHOWN = """el => [
    ...[...el.querySelectorAll('input, textarea')].map(i =>
        i.type === 'checkbox' || i.type === 'radio' ? String(i.checked) : i.value),
    ...[...el.querySelectorAll('[role=slider]')].map(s => s.getAttribute('aria-valuenow')),
    el.innerText,
].join(' | ')"""


def _shown_settings(page, slug: str, tab_module: str, preset) -> dict[str, str]:
    """{setting: what its widget shows} for the settings `preset` names that are drawn on the page now."""
    shown = {}
    for name in preset.values:
        keys = [f"{slug}.{name}"] if "." in name else [f"{slug}.{name}", f"{slug}.{tab_module}.{name}"]
        for key in keys:
            widget = page.locator(f".{_css_key(key)}")
            if widget.count():
                shown[name] = widget.first.evaluate(_SHOWN)
                break
    return shown


def _selected_tab(page, want: str, timeout_s: float = 60) -> str | None:
    selected, deadline = None, time.time() + timeout_s
    while selected != want and time.time() < deadline:  # the rerun may still be drawing
        time.sleep(0.2)
        chosen = page.locator("[role='tab'][aria-selected='true']")
        selected = chosen.first.inner_text().strip() if chosen.count() else None
    return selected


@pytest.mark.parametrize("slug, name, preset", list(_presets()))
def test_preset_lands_on_its_tab_and_its_link_reproduces_it(server, browser, lesson_tabs, slug, name, preset):
    """A lecturer clicks the preset: it opens its tab with no error. The address bar then holds the view: the same
    address opened afresh (a new session, as a student who follows the link from the slides) opens the same tab,
    with every setting the preset names showing what it showed after the click, and no note of a refused link
    value. (The number each preset claims is asserted on a fresh page in tests/pages/test_<slug>_page.py.)"""
    page = _lesson_tab(lesson_tabs, server, browser, slug)
    button = page.get_by_role("button", name=name, exact=True)
    button.wait_for(timeout=60_000)  # the preset row may still be drawing
    button.click()
    _wait_until_idle(page)
    assert _selected_tab(page, preset.tab) == preset.tab
    assert page.locator("[data-testid='stException']").count() == 0, page.inner_text("body")[:2000]
    package = importlib.import_module(next(item for item in available_lessons() if item.slug == slug).package)
    tab_module = next(tab for tab in package.TABS if tab.TITLE == preset.tab)
    before = _shown_settings(page, slug, tab_name(tab_module), preset)
    link = page.url
    page.goto(link)  # the same browser tab: the next preset is clicked from the reopened page
    _wait_until_idle(page)
    assert _selected_tab(page, preset.tab) == preset.tab, link
    deadline = time.time() + 30
    after = _shown_settings(page, slug, tab_name(tab_module), preset)
    while after != before and time.time() < deadline:  # widgets below a chart may still be drawing
        time.sleep(0.3)
        after = _shown_settings(page, slug, tab_name(tab_module), preset)
    assert after == before, f"{link} reopened shows other settings"
    body = page.inner_text("[data-testid='stMain']")
    assert "🔗" not in body, body[:2000]
    assert page.locator("[data-testid='stException']").count() == 0, body[:2000]
