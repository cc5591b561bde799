"""Server CPU-seconds per lesson page opened, one lesson at a time: where a classroom's first views cost.

    python -m benchmarks.first_view                      # every lesson, 3 warm visits each
    python -m benchmarks.first_view --lessons attention next_token --visits 5

It starts `streamlit run` on a free port, then for each lesson (and the home page, the shell's own cost) opens the
page in a fresh headless-Chromium context `--visits` + 1 times, one after another, and reads the server's CPU
time before and after each visit (until the page is idle and its first visible chart drawn, plus a second). The
first visit fills the server's caches (models, corpora, shared first views) and is reported apart; the median of
the others is what one more student costs. A fresh context also fetches the app's static files, so the home page's
figure is mostly that fixed cost; the next column opens each visit as a new tab of one kept context, whose browser
cache already holds those files (a student who has the app open and opens a lesson in a new tab); the last has a
student on the home page click the lesson in the sidebar (one session switching page: what a class mostly does).
The issue 12 goal is at most 0.3 server CPU-seconds per lesson page opened with its default settings.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

from app.lessons import available_lessons
from benchmarks.load import (
    BROWSER_ARGS,
    CHROMIUM,
    free_port,
    rss_and_cpu,
    start_server,
    stop_server,
)

VISIBLE_CHART = ".js-plotly-plot >> visible=true"


def wait_idle(page, timeout_s: float = 120) -> None:
    """Until the page has its title and its script has stood still for a few polls: Streamlit's app root says
    `data-test-script-state="notRunning"` and the running indicator is gone (the browser tests use this too).
    The title first: on a busy machine the script may not have started yet either."""
    page.wait_for_selector("[data-testid='stMain'] h1", timeout=timeout_s * 1000)
    still, deadline = 0, time.time() + timeout_s
    while still < 3 and time.time() < deadline:
        time.sleep(0.15)
        running = page.locator("[data-testid='stStatusWidget']").count() > 0
        running |= page.locator("[data-testid='stApp'][data-test-script-state='notRunning']").count() == 0
        still = 0 if running else still + 1


VIEWPORT = {"width": 1400, "height": 1000}


def _cost(proc, page, act) -> float:
    """Server CPU-seconds of `act()` (a page load or a click), until the page is idle with its first visible chart
    (or none: a page whose first tab trains first), plus a second; then the tab is closed. The pruner's garbage
    collections that fell in that window (after earlier visits' tabs were forgotten; the server logs each) are
    not the page's: they are taken out here and reported apart (`COLLECTIONS`)."""
    start, before = time.time(), rss_and_cpu(proc.pid)[1]
    act()
    wait_idle(page)
    try:
        page.locator(VISIBLE_CHART).first.wait_for(timeout=5000)
    except Exception:  # noqa: BLE001 - a page whose first tab trains first has no chart
        pass
    time.sleep(1.0)
    cost = rss_and_cpu(proc.pid)[1] - before
    collected = sum(proc.log.collections_cpu_s(start, time.time()))
    COLLECTIONS.append(collected)
    page.close()
    time.sleep(1.0)
    return cost - collected


COLLECTIONS: list[float] = []  # per measured visit: CPU-s of the pruner's collections inside it


def _visit(proc, context, url: str, close_context: bool) -> float:
    """A new tab (a new Streamlit session) opening `url`. A fresh context fetches the app's static files too; a
    kept one has them cached, as a student's browser does after the first page."""
    page = context.new_page()
    cost = _cost(proc, page, lambda: page.goto(url))
    if close_context:
        context.close()
    return cost


def _switch(proc, context, home: str, slug: str) -> float:
    """A student who has the app open (on the home page) clicks the lesson in the sidebar: the same session
    switches page, no new session and no static files."""
    page = context.new_page()
    page.goto(home)
    wait_idle(page)
    time.sleep(1.0)

    def click():
        page.locator(f"[data-testid='stSidebarNav'] a[href$='/{slug}']").first.click()
        page.wait_for_url(f"**/{slug}*")

    return _cost(proc, page, click)


def main(argv: list[str] | None = None) -> list[tuple]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lessons", nargs="*", default=None, help="slugs (default: every lesson)")
    parser.add_argument("--visits", type=int, default=3, help="warm visits per lesson")
    args = parser.parse_args(argv)
    from playwright.sync_api import sync_playwright

    COLLECTIONS.clear()
    slugs = ["(home)"] + (args.lessons or [lesson.slug for lesson in available_lessons()])
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    proc = start_server(port)
    rows = []
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS)
            cached = browser.new_context(viewport={"width": 1400, "height": 1000})
            for slug in slugs:
                target = url if slug == "(home)" else f"{url}/{slug}"
                costs = [_visit(proc, browser.new_context(viewport=VIEWPORT), target, True)]
                costs += [
                    _visit(proc, browser.new_context(viewport=VIEWPORT), target, True) for _ in range(args.visits)
                ]
                warm_tab = [_visit(proc, cached, target, False) for _ in range(args.visits)]
                switch = (
                    [_switch(proc, cached, url, slug) for _ in range(args.visits)]
                    if slug != "(home)"
                    else [float("nan")]
                )
                rows.append(
                    (
                        slug,
                        costs[0],
                        statistics.median(costs[1:]),
                        statistics.median(warm_tab),
                        statistics.median(switch),
                    )
                )
                print(
                    f"{slug:18s} first {costs[0]:6.2f}  warm {rows[-1][2]:5.2f}  "
                    f"new tab {rows[-1][3]:5.2f}  switch {rows[-1][4]:5.2f}",
                    file=sys.stderr,
                )
            cached.close()
            browser.close()
    finally:
        stop_server(proc)
    hit = [c for c in COLLECTIONS if c > 0]
    print(
        f"\nThe pruner's logged garbage collections (over 50 ms) fell in {len(hit)} of {len(COLLECTIONS)} "
        f"measured visits, {sum(hit):.2f} CPU-s in all (largest {max(hit, default=0):.2f}); taken out of the "
        "figures below, which are the pages' own.",
    )
    print(f"\n`python -m benchmarks.first_view --visits {args.visits}`\n")
    print(
        "| page | first visit (fills the caches), CPU-s | one more student, new browser (median), CPU-s "
        "| one more student, browser already has the app's files (median), CPU-s "
        "| a student with the app open clicks the lesson (median), CPU-s |"
    )
    print("|---|---|---|---|---|")
    for slug, first, warm, tab, switch in rows:
        print(f"| {slug} | {first:.2f} | {warm:.2f} | {tab:.2f} | {switch:.2f} |")
    return rows


if __name__ == "__main__":
    main()
