"""A class on one server (app/classroom.py, page.shared, benchmarks/load.py): the queue's order, places and lanes,
the bytes a run holds counted like torch counts them, the table's limits, what every first view shares computed
once per server, and the load tool run on a few sessions (slow)."""

import math
import os
from pathlib import Path

import numpy as np
import pytest
import torch
from streamlit.testing.v1 import AppTest

from app.classroom import RunQueue, RunTable, ServerFullError, SessionReaper, tensor_bytes


# ------------------------------------------------------------------------------------------- the queue
def test_queue_is_first_come_first_served_with_places():
    queue = RunQueue({"cpu": 2}, quantum_s=1e9, stale_s=1e9)
    assert queue.request("a") is None and queue.request("b") is None  # two train at once
    assert [queue.request(r) for r in ("c", "d", "e")] == [0, 1, 2]
    assert queue.request("d") == 1, "asking again keeps the place"
    queue.release("a")
    assert queue.request("d") == 1, "a free turn goes to the first in line, not to whoever asks"
    assert queue.request("c") is None
    assert queue.request("d") == 0 and queue.request("e") == 1
    assert queue.counts() == (2, 2)


def test_lanes_are_independent():
    queue = RunQueue({"cpu": 1, "gpu": 1}, quantum_s=1e9, stale_s=1e9)
    assert queue.request("cpu-run", "cpu") is None
    assert queue.request("gpu-run", "gpu") is None, "a CPU run does not hold the GPU's turn"
    assert queue.request("gpu-2", "gpu") == 0


def test_a_run_that_stops_asking_loses_its_turn_and_its_place():
    now = [0.0]
    queue = RunQueue({"cpu": 1}, quantum_s=1e9, stale_s=10, clock=lambda: now[0])
    assert queue.request("left-the-page") is None
    assert queue.request("closed-the-tab") == 0
    assert queue.request("waiting") == 1
    now[0] = 5
    assert queue.request("waiting") == 1
    now[0] = 12  # the first two have not asked for 12 s
    assert queue.request("waiting") is None
    assert queue.counts() == (1, 0)


# ------------------------------------------------------------------------------------------- bytes and limits
def test_tensor_bytes_counts_parameters_and_optimiser_state_like_torch():
    class Trainer:
        def __init__(self):
            self.model = torch.nn.Sequential(torch.nn.Embedding(50, 16), torch.nn.Linear(16, 50))
            self.model[1].weight = self.model[0].weight  # tied, as in SmolLM2: one storage
            self.optimizer = torch.optim.Adam(self.model.parameters())
            self.history = [1.0, 2.0]

    trainer = Trainer()
    params = {p.data_ptr(): p.numel() * p.element_size() for p in trainer.model.parameters()}
    assert tensor_bytes(trainer) == sum(params.values())  # tied weights counted once
    trainer.model(torch.tensor([[1, 2]])).sum().backward()
    trainer.optimizer.step()  # Adam's exp_avg and exp_avg_sq: two more copies of every parameter
    state = sum(
        t.numel() * t.element_size()
        for s in trainer.optimizer.state.values()
        for t in s.values()
        if torch.is_tensor(t) and t.dim() > 0
    )
    steps = sum(
        t.untyped_storage().nbytes()
        for s in trainer.optimizer.state.values()
        for t in s.values()
        if torch.is_tensor(t) and t.dim() == 0
    )
    grads = sum(p.grad.numel() * p.grad.element_size() for p in trainer.model.parameters())
    assert state == 2 * sum(params.values())
    expected = sum(params.values()) + state + steps
    assert tensor_bytes(trainer) in (expected, expected + grads)
    shared = {p.untyped_storage().data_ptr() for p in trainer.model.parameters()}
    assert tensor_bytes(trainer, skip=shared) == tensor_bytes(trainer) - sum(params.values())


class _Run:
    def __init__(self, name):
        self.run_id, self.running, self.trainer = name, True, object()


def test_table_caps_runs_and_bytes_and_says_what_to_do():
    table = RunTable(max_runs=2, max_bytes=1000)
    runs = [_Run(f"r{i}") for i in range(3)]
    table.check_room("alice", "moe", 400)
    table.add("alice", None, "moe", runs[0], 400)
    table.check_room("alice", "moe", 900)  # a new run of the same lesson replaces the old one
    with pytest.raises(ServerFullError, match="1,000 bytes|MiB"):
        table.check_room("bob", "moe", 700)  # 400 + 700 bytes > 1000
    table.add("bob", None, "moe", runs[1], 500)
    with pytest.raises(ServerFullError, match=r"holds 2 training runs.*limit is 2 runs") as info:
        table.check_room("carol", "lora", 1)
    assert "Try again when other students' runs are reset" in str(info.value)
    with pytest.raises(ServerFullError, match="Reset one of your 1 other runs"):
        table.check_room("alice", "lora", 1)
    table.remove("bob", "moe")
    table.check_room("carol", "lora", 1)


# ------------------------------------------------------------------------------------------- page.shared
CALLS = []


def expensive_first_view(corpus: str, order: int) -> dict:
    CALLS.append((corpus, order))
    return {"corpus": corpus, "table": [order] * 3}


SHARED_SCRIPT = """
import streamlit as st
from app.page import shared
from tests.kit.test_classroom import expensive_first_view
order = st.number_input("order", 1, 5, 3, key="order")
result = shared(expensive_first_view, "wiki", int(order))
result["table"].append("mutated by this session")  # a copy: other sessions never see it
st.write(f"table={result['table'][:3]}")
same = shared(expensive_first_view, "wiki", 1, read_only=True)
st.session_state["read_only_id"] = id(same)
"""


def test_what_every_first_view_computes_is_computed_once_per_server():
    CALLS.clear()
    alice = AppTest.from_string(SHARED_SCRIPT, default_timeout=30).run()
    bob = AppTest.from_string(SHARED_SCRIPT, default_timeout=30).run()
    assert not alice.exception and not bob.exception
    assert CALLS.count(("wiki", 3)) == 1, "the second student's first view is not computed again"
    assert "table=[3, 3, 3]" in [m.value for m in bob.markdown]
    assert alice.session_state["read_only_id"] == bob.session_state["read_only_id"]
    bob.number_input(key="order").set_value(4).run()
    assert ("wiki", 4) in CALLS and "table=[4, 4, 4]" in [m.value for m in bob.markdown]


def test_shared_results_are_bounded_per_function():
    from app.page import SHARED_ENTRIES

    assert 1 <= SHARED_ENTRIES <= 256 and not math.isinf(SHARED_ENTRIES)


# ------------------------------------------------------------------------------------------- sessions
def test_session_id_and_status_inside_and_outside_a_server():
    from app.streamlit_compat import (
        close_session,
        disconnected_sessions,
        session_id,
        session_status,
    )

    assert session_id() is None  # not in a script run
    assert session_status("no-such-session") is None  # no server here: cannot be told
    assert disconnected_sessions() is None and close_session("no-such-session") is False
    at = AppTest.from_string(
        "import streamlit as st\nfrom app.streamlit_compat import session_id\nst.session_state['sid'] = session_id()"
    ).run()
    assert isinstance(at.session_state["sid"], str) and at.session_state["sid"]


def test_closed_tabs_sessions_are_forgotten_after_a_while():
    now = [0.0]
    disconnected: list[str] | None = ["a", "b"]
    closed = []

    def close(sid):
        closed.append(sid)
        return sid != "stuck"  # a session that cannot be closed is tried again on the next check

    reaper = SessionReaper(lambda: disconnected, close, after_s=40, clock=lambda: now[0])
    assert reaper.reap() == 0  # first seen disconnected now
    now[0] = 30.0
    disconnected = ["a", "b", "c", "stuck"]  # c and stuck are new
    assert reaper.reap() == 0 and closed == []
    now[0] = 41.0
    disconnected = [
        "a",
        "c",
        "stuck",
    ]  # b came back (reconnected): its clock starts again if it leaves
    assert reaper.reap() == 1 and closed == ["a"]
    now[0] = 72.0
    disconnected = ["b", "c", "stuck"]
    assert reaper.reap() == 1 and closed == ["a", "c", "stuck"]
    now[0] = 200.0
    disconnected = None  # cannot be told: nothing is closed
    assert reaper.reap() == 0
    disconnected = ["b", "stuck"]  # b left again at 72: over 40 s ago now
    assert reaper.reap() == 1 and closed[-2:] == ["b", "stuck"]


def test_the_pruner_forgets_closed_sessions():
    import threading

    closed = threading.Event()
    reaper = SessionReaper(lambda: ["gone"], lambda _sid: closed.set() or True, after_s=-1)
    table = RunTable(max_runs=1, max_bytes=1)
    table.start_pruning(every_s=0.01, reaper=reaper)
    assert closed.wait(5), "the pruner did not run the reaper"


def test_the_pruner_collects_soon_after_closing_sessions_not_a_check_later():
    """Memory of closed tabs comes back `closing_s` after they are closed, not one check interval later."""
    import threading

    collected = threading.Event()
    closes = iter([["tab"]])
    reaper = SessionReaper(lambda: next(closes, []), lambda _sid: True, after_s=-1)
    table = RunTable(max_runs=1, max_bytes=1)
    table.start_pruning(
        every_s=30.0,  # the next check is far away
        collect_every=10**9,
        reaper=reaper,
        min_collect_gap_s=0.0,
        closing_s=0.05,
        on_collect=lambda _cpu_s, _found: collected.set(),
    )
    assert collected.wait(5), "no collection within 5 s of closing a session"
    del table


def test_every_lesson_is_imported_before_the_freeze():
    """run_table() imports every lesson's modules before its pruner freezes what is loaded: what a lesson imports
    later (its tabs, gensim, peft, ...) would be scanned by every garbage collection (~190 ms against ~30 ms)."""
    import pkgutil
    import sys

    from app import training
    from app.lessons import available_lessons

    training.import_every_lesson()
    for item in available_lessons():
        package = sys.modules[item.package]
        for module in pkgutil.walk_packages(package.__path__, item.package + "."):
            assert module.name in sys.modules, module.name
    source = Path(training.__file__).read_text()
    body = source[source.index("def run_table(") :]
    assert body.index("import_every_lesson()") < body.index("start_pruning("), "import first, then freeze"


def test_the_pruner_collects_after_closed_sessions_at_most_once_per_gap():
    """A class leaving tab by tab closes sessions on many checks; each wants a full collection afterwards, but the
    pruner collects at most once per `min_collect_gap_s` (its cost is the server's), and still collects."""
    import time

    stamps = []
    reaper = SessionReaper(lambda: ["tab"], lambda _sid: True, after_s=-1)  # closes one on every check
    table = RunTable(max_runs=1, max_bytes=1)
    table.start_pruning(
        every_s=0.005,
        collect_every=10**9,  # no periodic collection: only the ones after closed sessions
        reaper=reaper,
        min_collect_gap_s=0.25,
        closing_s=0.0,
        on_collect=lambda cpu_s, found: stamps.append((time.monotonic(), cpu_s, found)),
    )
    time.sleep(1.5)
    del table  # the pruner stops with its table
    times = [t for t, _cpu, _found in stamps]
    assert 2 <= len(times) <= 6, times  # ~1.5 s / 0.25 s, not one per check (hundreds)
    assert all(later - earlier >= 0.25 for earlier, later in zip(times, times[1:]))
    assert all(cpu >= 0 and found >= 0 for _t, cpu, found in stamps)


# ------------------------------------------------------------------------------------------- the load tool
def in_a_fresh_thread(fn, *args):
    """Run `fn` in a thread of its own: Playwright's sync API refuses to start in a thread whose asyncio loop is
    running, as it is in a worker whose browser tests hold the session's Chromium."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(fn, *args).result()


@pytest.mark.slow
@pytest.mark.browser
def test_load_tool_on_two_sessions(tmp_path):
    """Two students against a real server: every session either drew its first view or reported why not."""
    from pathlib import Path

    from benchmarks import load

    if not Path(load.CHROMIUM).exists():
        pytest.skip("needs Chromium")
    pytest.importorskip("playwright")
    args = ["--sessions", "2", "--run-seconds", "10", "--settle", "3", "--timeout", "120", "--cold"]
    report = in_a_fresh_thread(load.main, args + ["--classes", "2", "--json", str(tmp_path / "load.json")])
    assert report["sessions"] == 2 and len(report["students"]) == 2
    for student in report["students"]:
        assert student["first_view_s"] is not None or student["errors"], student
    assert report["pages_drawn"] + report["errors"] >= 2
    assert report["server_cpu_s_per_page"] > 0
    assert report["rss_peak_mib"] >= report["open_start"]["rss_mib"] > 50
    assert "| server CPU-seconds per page opened |" in report["table"]
    (second,) = report["later_classes"]  # the same class again on the same server
    assert len(second["students"]) == 2 and second["settled"]["rss_mib"] > 50
    assert "class 2 on the same server" in report["table"]
    assert (tmp_path / "load.json").exists()


@pytest.mark.slow
@pytest.mark.browser
def test_a_closed_tabs_session_is_forgotten_on_a_real_server():
    """A real server with a 1 s release time: a tab opens the app and closes; its session is closed well before
    Streamlit's own two-minute reconnect window ends (the server's log says so)."""
    import time

    from benchmarks import load

    if not Path(load.CHROMIUM).exists():
        pytest.skip("needs Chromium")
    sync_api = pytest.importorskip("playwright.sync_api")
    server = load.start_server(load.free_port(), env={"NLP_PLAYGROUND_RELEASE_AFTER_S": "1"})
    port = server.args[server.args.index("--server.port") + 1]

    def open_and_close_a_tab():
        with sync_api.sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=load.CHROMIUM, args=load.BROWSER_ARGS)
            context = browser.new_context()
            page = context.new_page()
            page.goto(f"http://127.0.0.1:{port}/", wait_until="domcontentloaded")
            page.wait_for_selector("[data-testid='stSidebar']", timeout=120_000)
            page.get_by_text("Running on").first.wait_for(timeout=120_000)  # the kit's sidebar ran
            context.close()
            browser.close()

    try:
        in_a_fresh_thread(open_and_close_a_tab)
        time.sleep(25)  # 1 s disconnected, then the pruner's next checks (every 10 s)
    finally:
        load.stop_server(server)  # and reads the log to its end
    log = server.log.text()
    assert "forgot a closed tab's session" in log, log[-2000:]


@pytest.mark.skipif(not Path("/proc/self/statm").exists(), reason="reads RSS from Linux's /proc")
def test_freed_memory_goes_back_to_the_operating_system():
    """glibc keeps freed heap memory; the pruner's trim hands it back (a class leaves, the RSS falls)."""
    import ctypes.util

    from app.classroom import return_memory_to_os

    if "libc.so" not in str(ctypes.util.find_library("c")):
        pytest.skip("not glibc")

    def rss_mb() -> float:
        return int(Path("/proc/self/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20

    return_memory_to_os()
    arrays = [np.ones(8000) for _ in range(4000)]  # 64 KB each (below the mmap threshold): 256 MB of heap
    del arrays[:-1]  # all but the last: the top of the heap stays in use, so free() alone returns nothing
    held = rss_mb()
    assert return_memory_to_os()
    assert rss_mb() < held - 150, (held, rss_mb())
