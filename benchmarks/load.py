"""A class on one server: N students open the app at once, each in their own headless Chromium context.

    python -m benchmarks.load --sessions 30                  # the classroom measurement
    python -m benchmarks.load --sessions 3 --settle 20       # a smoke run
    python -m benchmarks.load --sessions 10 --lessons attention ngrams --run-seconds 120

It starts `streamlit run app/entry/streamlit_app.py` on a free port of 127.0.0.1, warms it the way a lecturer would (one
visit to each lesson, unless --cold), then runs three phases against it:

1. open: every session loads its lesson (spread over app.lessons.available_lessons()) at the same moment and
   waits for its first chart. Reported: time to first chart (median, p95) and the server's CPU-seconds per page
   opened (the figure a real classroom feels, where the browsers run on the students' machines).
2. train: each session clicks one of its lesson's presets (spread over them), then, where the lesson trains live,
   the kit's ▶ Start button (key "<slug>:start"; tabs are lazy, so it opens the lesson's tabs in turn to find it)
   and waits up to --run-seconds for "done". Reported: runs started, finished, still waiting in the queue.
3. close: every context closes; the server's memory is sampled for --settle seconds.

With --classes N the three phases run N times against the same server: what the first class leaves in memory for
good (caches that every later class reuses) is told apart from what each class leaves (state never released).

Errors: pages that failed to load or draw a chart, Streamlit exceptions (tracebacks) on a page, uncaught browser
errors. Server memory (RSS) is sampled every 0.5 s throughout (psutil, else /proc); GPU memory (nvidia-smi) where
present. The browsers share this machine's CPUs: on a small machine end-to-end times say more about the browsers
than the server; the CPU-seconds do not. Prints a JSON report and a markdown table (for BENCHMARKS.md).
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHART = ".js-plotly-plot"  # plotly's own div: on Streamlit 1.67 [data-testid='stPlotlyChart'] matched no chart
BROWSER_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


# ------------------------------------------------------------------------------------ the server and its numbers
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ServerLog:
    """The server's log (its stderr), read in a thread as it comes: an unread pipe fills after ~64 KiB and the
    server then blocks on its next log line (each forgotten tab logs one)."""

    def __init__(self, stream):
        self.lines: collections.deque[tuple[float, str]] = collections.deque(maxlen=20_000)
        self._thread = threading.Thread(target=self._read, args=(stream,), daemon=True)
        self._thread.start()

    def _read(self, stream) -> None:
        for line in stream:
            self.lines.append((time.time(), line.rstrip("\n")))

    def finish(self, timeout_s: float = 5.0) -> None:
        """Wait for the last lines (the stream ends when the server has exited)."""
        self._thread.join(timeout_s)

    def text(self) -> str:
        return "\n".join(line for _t, line in self.lines)

    def collections_cpu_s(self, since: float = 0.0, until: float = float("inf")) -> list[float]:
        """CPU-seconds of the pruner's logged garbage collections (app/training.py logs those over 50 ms)."""
        found = []
        for stamp, line in list(self.lines):
            if since <= stamp <= until and (match := _GC_LINE.search(line)):
                found.append(float(match.group(1)) / 1000)
        return found


_GC_LINE = re.compile(r"garbage collection: (\d+) ms CPU")


def start_server(port: int, env: dict | None = None) -> subprocess.Popen:
    """`streamlit run` on 127.0.0.1:`port`, once it answers its health check; its log is `proc.log` (ServerLog)."""
    command = [sys.executable, "-m", "streamlit", "run", "app/entry/streamlit_app.py"]
    command += ["--server.port", str(port), "--server.address", "127.0.0.1"]
    command += ["--server.headless", "true", "--browser.gatherUsageStats", "false"]
    env = dict(os.environ, HF_HUB_OFFLINE="1", **(env or {}))
    proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    proc.log = ServerLog(proc.stderr)
    deadline = time.time() + 90
    while time.time() < deadline:
        if proc.poll() is not None:
            proc.log.finish()
            raise RuntimeError("streamlit exited: " + proc.log.text())
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2):
                return proc
        except OSError:
            time.sleep(0.5)
    proc.kill()
    raise RuntimeError("streamlit did not answer its health check within 90 s")


def stop_server(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)
    proc.log.finish()


def rss_and_cpu(pid: int) -> tuple[float, float]:
    """(resident memory in MiB, user+system CPU-seconds) of a process: psutil, else /proc."""
    try:
        import psutil

        proc = psutil.Process(pid)
        times = proc.cpu_times()
        return proc.memory_info().rss / 2**20, times.user + times.system
    except ImportError:
        pass
    with open(f"/proc/{pid}/statm") as f:
        rss_pages = int(f.read().split()[1])
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return rss_pages * os.sysconf("SC_PAGE_SIZE") / 2**20, (int(fields[11]) + int(fields[12])) / ticks


def gpu_memory_mib(pid: int) -> float | None:
    """The server's GPU memory (nvidia-smi), None without an NVIDIA GPU."""
    if shutil.which("nvidia-smi") is None:
        return None
    try:
        out = subprocess.run(
            ["nvidia-smi", "--query-compute-apps=pid,used_memory", "--format=csv,noheader,nounits"],
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout
    except (OSError, subprocess.TimeoutExpired):
        return None
    rows = [line.split(",") for line in out.splitlines() if "," in line]
    return sum(float(used) for app_pid, used in rows if app_pid.strip() == str(pid))


class Sampler:
    """Samples the server's RSS (and GPU memory) every `every_s` seconds in a thread."""

    def __init__(self, pid: int, every_s: float = 0.5):
        self.pid, self.every_s = pid, every_s
        self.samples: list[tuple[float, float]] = []  # (seconds since start, RSS MiB)
        self.gpu: list[float] = []
        self.marks: dict[str, float] = {}
        self._stop = threading.Event()
        self._t0 = time.perf_counter()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join(5)

    def now(self) -> float:
        return time.perf_counter() - self._t0

    def mark(self, name: str) -> dict:
        """Note a moment: its time, the server's RSS and CPU-seconds then."""
        rss, cpu = rss_and_cpu(self.pid)
        self.marks[name] = self.now()
        return {"t": self.now(), "rss_mib": rss, "cpu_s": cpu}

    def _loop(self):
        n = 0
        while not self._stop.is_set():
            try:
                rss, _cpu = rss_and_cpu(self.pid)
            except (OSError, ProcessLookupError):
                return
            self.samples.append((self.now(), rss))
            if n % 10 == 0:
                gpu = gpu_memory_mib(self.pid)
                if gpu is not None:
                    self.gpu.append(gpu)
            n += 1
            self._stop.wait(self.every_s)

    def peak(self, start: float = 0.0, end: float = float("inf")) -> float:
        values = [rss for t, rss in self.samples if start <= t <= end]
        return max(values) if values else float("nan")


# ------------------------------------------------------------------------------------ one student
@dataclass
class Student:
    index: int
    lesson: str
    first_chart_s: float | None = None  # until a chart was on the page (None: its first view has none)
    first_view_s: float | None = None  # until the page's script had finished its first run
    preset: str = ""
    trains: bool = False
    started: bool = False
    finished: bool = False
    waited_in_queue: bool = False
    errors: list[str] = field(default_factory=list)
    phase: str = "open"  # what the student was doing: a browser error names it (open, preset, tabs, training)


def css_key(key: str) -> str:
    """Streamlit's CSS class for an element key (its frontend replaces what is not [A-Za-z0-9_-])."""
    return "st-key-" + "".join(c if c.isalnum() or c in "_-" else "-" for c in key.strip())


IDLE = "[data-testid='stApp'][data-test-script-state='notRunning']"  # Streamlit's own run state


async def wait_idle(page, timeout_s: float) -> bool:
    """Until the script has finished running (Streamlit's run state 'notRunning' for 0.4 s)."""
    deadline = time.perf_counter() + timeout_s
    while time.perf_counter() < deadline:
        if await page.locator(IDLE).count():
            await asyncio.sleep(0.4)
            if await page.locator(IDLE).count():
                return True
        await asyncio.sleep(0.2)
    return False


async def click_and_wait(page, button, timeout_s: float) -> None:
    """Click, wait for the rerun it asks for to begin (up to 3 s), then for it to end."""
    await button.click()
    deadline = time.perf_counter() + 3
    while time.perf_counter() < deadline and await page.locator(IDLE).count():
        await asyncio.sleep(0.1)
    await wait_idle(page, timeout_s)


async def exceptions_on(page) -> list[str]:
    texts = await page.locator("[data-testid='stException']").all_inner_texts()
    return [t.strip().splitlines()[0][:200] if t.strip() else "exception" for t in texts]


async def open_lesson(browser, url: str, student: Student, timeout_s: float):
    """Open the lesson; time the first chart and the complete first view (the script idle, a title drawn)."""
    context = await browser.new_context(viewport={"width": 1400, "height": 1000})
    page = await context.new_page()
    page.set_default_timeout(timeout_s * 1000)  # clicks too: 30 browsers on 2 cores are slow to answer
    page.on(
        "pageerror",
        lambda exc: student.errors.append(f"browser ({student.phase}): {str(exc)[:200]}"),
    )
    start = time.perf_counter()
    try:
        # 30 browsers on a small machine can take longer than playwright's 30 s default to load the page itself
        await page.goto(f"{url}/{student.lesson}", wait_until="domcontentloaded", timeout=timeout_s * 1000)
        idle_polls = 0
        while time.perf_counter() - start < timeout_s:
            elapsed = time.perf_counter() - start
            if student.first_chart_s is None and await page.locator(CHART).count():
                student.first_chart_s = elapsed
            running = not await page.locator(IDLE).count()
            # a chart, or ▶ Start on a lesson that trains before it draws, or a traceback (an error below): the
            # title and a quiet status widget alone can come before the script has drawn its first view
            drawn = (
                student.first_chart_s is not None
                or await page.locator(
                    "[data-testid='stMain'] button:has-text('Start'), [data-testid='stException']"
                ).count()
            )
            idle_polls = idle_polls + 1 if drawn and not running else 0
            if idle_polls >= 3:  # 0.6 s without the running indicator
                student.first_view_s = time.perf_counter() - start - 0.4
                break
            await asyncio.sleep(0.2)
        else:
            student.errors.append(f"open: no complete first view within {timeout_s:.0f} s")
        student.errors += await exceptions_on(page)
    except Exception as exc:  # noqa: BLE001 - a failed page is a result, not a crash of the tool
        student.errors.append(f"open: {type(exc).__name__}: {str(exc).splitlines()[0][:200]}")
    return context, page


async def _appears(locator, timeout_s: float) -> bool:
    try:
        await locator.wait_for(state="visible", timeout=timeout_s * 1000)
        return True
    except Exception:  # noqa: BLE001 - playwright's TimeoutError: not there
        return False


async def train(page, student: Student, run_seconds: float, timeout_s: float) -> None:
    slug = student.lesson
    try:
        # each preset's container holds a hidden copy of its button too: count the visible ones only
        presets = page.locator(f"[class*='{css_key(slug + ':preset-')}'] button:visible")
        if (count := await presets.count()) > 0:
            button = presets.nth(student.index // 7 % count)  # spread the students over the presets
            student.preset = (await button.inner_text()).strip()
            student.phase = "preset"
            await click_and_wait(page, button, timeout_s)
        start = page.locator(f".{css_key(slug + ':start')} button:visible").first
        # a lesson that trains live shows the kit's Start button on one of its tabs; tabs are lazy (a closed tab
        # is not drawn), so look on the open one, then open the others in turn, as a student would
        if not await _appears(start, 5):
            student.phase = "tabs"
            for tab in await page.locator("[role='tab']").all():
                await click_and_wait(page, tab, timeout_s)
                if await _appears(start, 2):
                    break
            else:
                return  # no Start on any tab: a lesson without live training
        student.trains = True
        if "Start" not in await start.inner_text():
            return
        await start.click()
        student.started, student.phase = True, "training"
        deadline = time.perf_counter() + run_seconds
        while time.perf_counter() < deadline:
            await asyncio.sleep(1.0)
            text = " ".join(await page.locator("[data-testid='stProgress']").all_inner_texts())
            if " done" in text:
                student.finished = True
                break
            body = await page.inner_text("[data-testid='stMain']")
            if "ahead of yours" in body or "yours is next" in body:
                student.waited_in_queue = True
        student.errors += await exceptions_on(page)
    except Exception as exc:  # noqa: BLE001
        student.errors.append(f"train: {type(exc).__name__}: {str(exc).splitlines()[0][:200]}")


# ------------------------------------------------------------------------------------ the class
def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


async def runs_held(url: str, timeout_s: float) -> int | None:
    """Runs the server still holds, as a new visitor's sidebar says ("N of M runs held"; none: 0)."""
    import re

    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS)
        context = await browser.new_context()
        page = await context.new_page()
        try:
            await page.goto(url, wait_until="domcontentloaded")
            await page.wait_for_selector("[data-testid='stSidebar']", timeout=timeout_s * 1000)
            await wait_idle(page, timeout_s)
            body = await page.inner_text("body")
            found = re.search(r"(\d+) of \d+ runs held", body)
            if found:
                return int(found.group(1))
            return 0 if "Running on" in body else None  # the sidebar says nothing when none is held
        except Exception:  # noqa: BLE001 - a measurement that could not be made
            return None
        finally:
            await browser.close()


async def classroom(args, url: str, sampler: Sampler) -> dict:
    from playwright.async_api import async_playwright

    from app.lessons import available_lessons

    slugs = args.lessons or [item.slug for item in available_lessons()]
    report: dict = {"sessions": args.sessions, "lessons": slugs}
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS)
        # a fresh server's first request decides its navigation mode: the home page, as a lecturer would
        context, page = await open_lesson(browser, url, Student(-1, ""), args.timeout)
        await context.close()
        if not args.cold:  # the lecturer opens every lesson once before class
            report["warm_start"] = sampler.mark("warm_start")
            for slug in slugs:
                context, _page = await open_lesson(browser, url, Student(-1, slug), args.timeout)
                await context.close()
        await browser.close()
        report.update(await one_class(pw, args, url, sampler, slugs))
        # the same class again on the same server: what the first left behind (caches every later class reuses)
        # is told apart from what each class leaves (per-session state that was never released)
        report["later_classes"] = [await one_class(pw, args, url, sampler, slugs) for _ in range(args.classes - 1)]
    report["runs_held_after_settle"] = await runs_held(url, args.timeout)
    return report


async def one_class(pw, args, url: str, sampler: Sampler, slugs: list[str]) -> dict:
    """Every student opens a lesson at once, trains, and closes the tab; then the server is left alone to settle."""
    students = [Student(i, slugs[i % len(slugs)]) for i in range(args.sessions)]
    report: dict = {}
    browser = await pw.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS)
    start = sampler.now()
    report["open_start"] = before = sampler.mark("open_start")
    opened = await asyncio.gather(*(open_lesson(browser, url, s, args.timeout) for s in students))
    report["open_end"] = after = sampler.mark("open_end")
    report["server_cpu_s_per_page"] = (after["cpu_s"] - before["cpu_s"]) / len(students)
    if not args.no_train:
        await asyncio.gather(
            *(train(page, s, args.run_seconds, args.timeout) for s, (_ctx, page) in zip(students, opened))
        )
    report["train_end"] = sampler.mark("train_end")
    for context, _page in opened:
        await context.close()
    await browser.close()
    report["closed"] = sampler.mark("closed")
    await asyncio.sleep(args.settle)
    report["settled"] = sampler.mark("settled")
    firsts = [s.first_chart_s for s in students if s.first_chart_s is not None]
    views = [s.first_view_s for s in students if s.first_view_s is not None]
    report.update(
        first_chart_median_s=statistics.median(firsts) if firsts else None,
        first_chart_p95_s=percentile(firsts, 0.95),
        first_view_median_s=statistics.median(views) if views else None,
        first_view_p95_s=percentile(views, 0.95),
        pages_with_chart=len(firsts),
        pages_drawn=len(views),
        errors=sum(len(s.errors) for s in students),
        runs_started=sum(s.started for s in students),
        runs_finished=sum(s.finished for s in students),
        runs_that_waited=sum(s.waited_in_queue for s in students),
        training_sessions=sum(s.trains for s in students),
        rss_peak_mib=sampler.peak(start),
        rss_after_close_mib=[
            (round(t - report["closed"]["t"]), round(r)) for t, r in sampler.samples[::10] if t >= report["closed"]["t"]
        ],
        gpu_peak_mib=max(sampler.gpu) if sampler.gpu else None,
        rss_timeline_mib=[(round(t, 1), round(r)) for t, r in sampler.samples[::10] if t >= start],
        students=[asdict(s) for s in students],
    )
    return report


def _within_a_minute(report: dict) -> str:
    """RSS 60 s after the tabs closed (the first sample at or after it)."""
    after = [rss for t, rss in report["rss_after_close_mib"] if t >= 60]
    return f"{after[0]:.0f}" if after else "—"


def table(report: dict, command: str) -> str:
    def fmt(value, digits=2):
        return "—" if value is None else f"{value:.{digits}f}"

    rows = [
        ("sessions (lessons)", f"{report['sessions']} ({', '.join(report['lessons'])})"),
        (
            "pages drawn / with a chart in their first view",
            f"{report['pages_drawn']} / {report['pages_with_chart']} of {report['sessions']}",
        ),
        ("errors", str(report["errors"])),
        (
            "time to first chart, median / p95",
            f"{fmt(report['first_chart_median_s'], 1)} s / {fmt(report['first_chart_p95_s'], 1)} s",
        ),
        (
            "time to the complete first view, median / p95",
            f"{fmt(report['first_view_median_s'], 1)} s / {fmt(report['first_view_p95_s'], 1)} s",
        ),
        ("server CPU-seconds per page opened", fmt(report["server_cpu_s_per_page"])),
        (
            "runs started / finished / waited in the queue",
            f"{report['runs_started']} / {report['runs_finished']} / {report['runs_that_waited']}",
        ),
        (
            "server RSS before / peak / at close / after settling",
            f"{report['open_start']['rss_mib']:.0f} / {report['rss_peak_mib']:.0f} / "
            f"{report['closed']['rss_mib']:.0f} / {report['settled']['rss_mib']:.0f} MiB",
        ),
        (
            "server RSS 60 s after the tabs closed",
            f"{_within_a_minute(report)} MiB",
        ),
        *(
            (
                f"class {k} on the same server: errors; RSS before / peak / 60 s after close / settled",
                f"{later['errors']}; {later['open_start']['rss_mib']:.0f} / {later['rss_peak_mib']:.0f} / "
                f"{_within_a_minute(later)} / {later['settled']['rss_mib']:.0f} MiB",
            )
            for k, later in enumerate(report.get("later_classes", []), start=2)
        ),
        (
            "the server's garbage collections over 50 ms (the pruner's): count, CPU-s in all",
            "{count}, {cpu_s:.2f}".format(**report.get("pruner_collections", {"count": 0, "cpu_s": 0})),
        ),
        (
            "runs still held after settling (a new visitor's sidebar)",
            str(report["runs_held_after_settle"]),
        ),
        (
            "GPU memory peak",
            "—" if report["gpu_peak_mib"] is None else f"{report['gpu_peak_mib']:.0f} MiB",
        ),
    ]
    lines = [f"`{command}`", "", "| measure | value |", "|---|---|"]
    lines += [f"| {name} | {value} |" for name, value in rows]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sessions", type=int, default=30, help="concurrent students")
    parser.add_argument("--lessons", nargs="*", help="slugs (default: every available lesson)")
    parser.add_argument("--run-seconds", type=float, default=60, help="how long to wait for runs")
    parser.add_argument("--settle", type=float, default=60, help="seconds of sampling after closing")
    parser.add_argument("--timeout", type=float, default=180, help="per page load, seconds")
    parser.add_argument("--cold", action="store_true", help="no warm-up visit of each lesson")
    parser.add_argument("--no-train", action="store_true", help="open pages only")
    parser.add_argument("--classes", type=int, default=1, help="run the class this many times on one server")
    parser.add_argument("--json", type=Path, help="also write the full report here")
    args = parser.parse_args(argv)
    if not Path(CHROMIUM).exists():
        raise SystemExit(f"needs Chromium at {CHROMIUM} (set CHROMIUM=...)")
    port = free_port()
    server = start_server(port)
    try:
        with Sampler(server.pid) as sampler:
            report = asyncio.run(classroom(args, f"http://127.0.0.1:{port}", sampler))
    finally:
        stop_server(server)
    collected = server.log.collections_cpu_s()
    report["pruner_collections"] = {"count": len(collected), "cpu_s": round(sum(collected), 2)}
    command = "python -m benchmarks.load " + " ".join(argv if argv is not None else sys.argv[1:])
    report["table"] = table(report, command.strip())
    if args.json:
        args.json.write_text(json.dumps(report, indent=1, default=str))
    print(report["table"])
    return report


if __name__ == "__main__":
    main()
