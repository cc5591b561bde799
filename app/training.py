"""The live-training kit: a model's step function run in short chunks inside a Streamlit fragment.

A lesson calls it through `LessonPage.train` (app/page.py). It gives `training_panel` a factory for its trainer (any object with `train_steps(n) -> dict of floats`,
optionally a `done` attribute), the number of steps, the settings the run is built from, and a `render(run)`
function that draws the run. The kit draws Start / Pause / Step / Reset / Pin, advances the run by one chunk
(about `chunk_seconds` of work, sized adaptively) on each fragment rerun, shows progress with an ETA, and keeps
the run in session state, so leaving the page and coming back keeps the results. Nothing trains until the user
presses Start or Step.

A class on one server (app/classroom.py): runs take turns through a server-wide queue, at most
NLP_PLAYGROUND_MAX_RUNS CPU runs (default 2) and NLP_PLAYGROUND_GPU_JOBS GPU runs (default 2) training at once; the
others wait and see their place ("2 runs ahead of yours"), and a turn passes on after NLP_PLAYGROUND_TURN_SECONDS
(default 30) when others wait. A session trains NLP_PLAYGROUND_RUNS_PER_SESSION runs at once (default 1): starting
another pauses the older one and says so. The server holds at most NLP_PLAYGROUND_MAX_HELD runs (default 40) and
NLP_PLAYGROUND_MAX_HELD_MB of their tensors (default 6144) and says so when it is full. A run advances only while
its page is open (the live fragment drives it; the page then draws all its tabs, so another tab of the lesson does not
pause it): leaving the page pauses it, coming back resumes it. A closed tab's session, its runs with it, is forgotten
NLP_PLAYGROUND_RELEASE_AFTER_S seconds (default 40) after it disconnected (Streamlit alone keeps it about two
minutes), and the freed memory goes back to the operating system within the pruner's next 10-second check.
"""

from __future__ import annotations

import logging
import math
import os
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from app.classroom import SHARED_STORAGE, RunQueue, RunTable, SessionReaper, tensor_bytes
from app.lecture import clear_pins, pin, pinned, settings_diff, short_settings
from app.streamlit_compat import close_session, disconnected_sessions, session_id, session_status
from models.device import free_memory, is_out_of_memory


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever sys.stderr is when a line is logged (a stream captured earlier, by a test, may be closed
    by then)."""

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, _value):
        pass


_LOG = logging.getLogger("nlp_playground.training")  # the server's log: the load tool reads these lines
if not _LOG.handlers:
    _handler = _StderrHandler()
    _handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    _LOG.addHandler(_handler)
    _LOG.setLevel(logging.INFO)
    _LOG.propagate = False


def _env(name: str, default: float) -> float:
    try:
        return float(os.environ.get(name, default))
    except ValueError:
        return default


MAX_RUNS = max(1, int(_env("NLP_PLAYGROUND_MAX_RUNS", 2)))  # CPU runs training at once, server-wide
MAX_GPU_JOBS = max(1, int(_env("NLP_PLAYGROUND_GPU_JOBS", 2)))  # GPU (or MPS) runs training at once
RUNS_PER_SESSION = max(1, int(_env("NLP_PLAYGROUND_RUNS_PER_SESSION", 1)))  # one student, at once
MAX_HELD_RUNS = max(1, int(_env("NLP_PLAYGROUND_MAX_HELD", 40)))  # runs kept in memory, server-wide
MAX_HELD_MB = _env("NLP_PLAYGROUND_MAX_HELD_MB", 6144)  # their tensors together, MiB
TURN_SECONDS = _env("NLP_PLAYGROUND_TURN_SECONDS", 30)  # a turn passes on after this when others wait
RELEASE_AFTER_S = _env("NLP_PLAYGROUND_RELEASE_AFTER_S", 40)  # a closed tab's session and runs go after
STALE_SECONDS = 10.0  # a run that stopped asking for turns (page left, tab closed) leaves the queue


@dataclass
class TrainingRun:
    trainer: Any  # has train_steps(n) -> dict[str, float]
    total_steps: int
    settings: dict  # the settings the run was built from
    device: str = "cpu"
    label: str = ""
    steps_done: int = 0
    history: list[dict] = field(default_factory=list)  # one row per chunk: step, seconds, metrics
    running: bool = False
    elapsed_s: float = 0.0  # time inside train_steps
    wall_s: float = 0.0  # wall-clock time while running, page redraws included (pauses excluded)
    last_tick: float | None = None
    error: str | None = None
    steps_per_chunk: int = 1
    run_id: str = field(default_factory=lambda: f"run-{uuid.uuid4().hex[:12]}")
    waiting: int | None = None  # runs ahead of this one in the server's queue; None = not waiting
    notice: str = ""  # why the kit paused it (another run of the same student started)
    owner: str = ""  # the holding session's token ("" outside the kit: not in the server table)
    slug: str = ""  # the lesson (the panel's prefix) it belongs to
    nbytes: int = 0  # bytes of its tensors, as counted against the server's limit

    @property
    def finished(self) -> bool:
        return self.steps_done >= self.total_steps or bool(getattr(self.trainer, "done", False))

    @property
    def progress(self) -> float:
        if self.finished:  # the trainer may finish early (e.g. a small text's epochs end sooner)
            return 1.0
        return min(1.0, self.steps_done / max(1, self.total_steps))

    @property
    def eta_s(self) -> float | None:
        """Seconds left at the wall-clock pace so far (training and redrawing the page); None while the
        first chunks (which warm caches and size the chunks) would make a poor estimate."""
        if self.steps_done == 0 or len(self.history) < 3:
            return None
        per_step = max(self.wall_s, self.elapsed_s) / self.steps_done
        return per_step * max(0, self.total_steps - self.steps_done)

    def history_frame(self) -> pd.DataFrame:
        return pd.DataFrame(self.history)


@st.cache_resource
def run_queue() -> RunQueue:
    """The server's queue of training turns (one per process)."""
    return RunQueue({"cpu": MAX_RUNS, "gpu": MAX_GPU_JOBS}, TURN_SECONDS, STALE_SECONDS)


@st.cache_resource
def run_table() -> RunTable:
    """Every run the sessions of this server hold, to cap them (one per process). Made in the first page's
    sidebar; every lesson's code is imported first, so that the pruner's `gc.freeze` covers it."""
    import_every_lesson()
    table = RunTable(
        MAX_HELD_RUNS,
        int(MAX_HELD_MB * 2**20),
        session_status,
        on_drop=run_queue().release,
        release_after_s=RELEASE_AFTER_S,
    )
    table.start_pruning(reaper=SessionReaper(disconnected_sessions, _forget, RELEASE_AFTER_S), on_collect=_collected)
    return table


def _collected(cpu_s: float, found: int) -> None:
    """The pruner's garbage collections: the costly ones go to the server's log (their CPU is the server's)."""
    if cpu_s > 0.05:
        _LOG.info("garbage collection: %.0f ms CPU, %d objects freed", cpu_s * 1000, found)


def import_every_lesson() -> None:
    """Import every lesson's package and modules (with the libraries they import: gensim, peft, sklearn, ...).
    The server would import them on the first visit to each lesson anyway; done once before the pruner freezes
    what is loaded, their ~250k functions, types and dicts stay out of its garbage collections, which then cost
    ~30 ms instead of ~190 ms (BENCHMARKS.md). Costs ~3 s once, in the server's first page."""
    import importlib
    import pkgutil

    from app.lessons import available_lessons

    for item in available_lessons():
        try:
            package = importlib.import_module(item.package)
            for module in pkgutil.walk_packages(package.__path__, item.package + "."):
                importlib.import_module(module.name)
        except Exception as exc:  # noqa: BLE001 - the lesson's own page says what is missing
            _LOG.warning("could not import lesson %s ahead: %s", item.slug, exc)


def _forget(session: str) -> bool:
    """Forget a closed tab's session (the reaper calls this), and say so in the server's log."""
    if not close_session(session):
        return False
    _LOG.info("forgot a closed tab's session, disconnected for over %.0f s", RELEASE_AFTER_S)
    return True


def lane(device: str) -> str:
    return "cpu" if device == "cpu" else "gpu"


def _owner() -> str:
    """This session's own token: the key of its runs in the server table."""
    if "kit:owner" not in st.session_state:
        st.session_state["kit:owner"] = uuid.uuid4().hex
    return st.session_state["kit:owner"]


def _run_key(slug: str) -> str:
    return f"{slug}:run"


def get_run(slug: str) -> TrainingRun | None:
    return st.session_state.get(_run_key(slug))


def lesson_has_live_run(slug: str) -> bool:
    """True while one of this session's runs of the lesson `slug` trains (its panel's prefix starts with the slug):
    the page then draws every tab, so the run's live fragment keeps going while the student looks at another."""
    return any(
        isinstance(value, TrainingRun) and value.running and str(key).startswith(slug)
        for key, value in st.session_state.items()
    )


def _bytes_of(trainer) -> int:
    """The trainer's tensors, as counted against the server's limit (0 if they cannot be walked)."""
    try:
        return tensor_bytes(trainer, SHARED_STORAGE)
    except Exception:  # noqa: BLE001 - an odd trainer must not stop training; it is then not counted
        return 0


def _release(run: TrainingRun) -> None:
    run_queue().release(run.run_id)


def advance(run: TrainingRun, chunk_seconds: float = 0.3) -> None:
    """Do one chunk of training (about chunk_seconds of work) when the queue gives this run a turn."""
    if run.trainer is None:  # released by the server (its session was gone)
        run.running = False
        return
    if run.finished:
        run.running = False
        _release(run)
        return
    run.waiting = run_queue().request(run.run_id, lane(run.device))
    if run.waiting is not None:
        return
    n = max(1, min(run.steps_per_chunk, run.total_steps - run.steps_done))
    start = time.perf_counter()
    try:
        metrics = run.trainer.train_steps(n)
    except Exception as exc:  # noqa: BLE001 - any failure stops the run with a message
        run.running = False
        _release(run)
        if is_out_of_memory(exc):
            free_memory()
            run.error = (
                "The GPU ran out of memory. The memory was freed; reset and try smaller "
                "settings, or switch the device to cpu in the sidebar."
            )
        else:
            run.error = f"Training stopped: {exc}"
        return
    seconds = time.perf_counter() - start
    now = time.perf_counter()
    gap = now - run.last_tick if run.last_tick is not None else seconds
    run.wall_s += gap if gap < 5.0 else seconds  # a long gap was a pause: count only the training
    run.last_tick = now
    run.error = None
    run.elapsed_s += seconds
    run.steps_done += n
    row = {"step": run.steps_done, "seconds": round(run.elapsed_s, 3)}
    row.update({k: float(v) for k, v in (metrics or {}).items() if isinstance(v, (int, float))})
    run.history.append(row)
    blown = [k for k, v in row.items() if k.endswith("loss") and not math.isfinite(v)]
    if blown:  # NaN or inf: every later step would be too; stop and say why (the curve so far stays)
        run.running = False
        _release(run)
        run.error = (
            f"Training stopped at step {run.steps_done}: {blown[0]} became {row[blown[0]]}. The loss "
            "blew up: a learning rate or a loss coefficient is too large. Lower it, then ↺ Reset."
        )
        return
    # size the next chunk so that it takes about chunk_seconds (growth limited to x4 per chunk)
    target = n * chunk_seconds / max(seconds, 1e-4)
    run.steps_per_chunk = int(max(1, min(target, 4 * n)))
    if run.owner and len(run.history) == 1:  # optimiser state exists now: count it
        run.nbytes = _bytes_of(run.trainer)
        run_table().update_bytes(run.owner, run.slug, run.nbytes)
    if run.finished:
        run.running = False
        _release(run)


def run_title(prefix: str, run: TrainingRun | None = None) -> str:
    """What a student reads for a run: its lesson's title from LESSONS (a run's prefix is the lesson's slug, or
    the slug and a tab's name: "lora-real"), and the run's label when it has one."""
    from app.lessons import LESSONS

    owners = [item for item in LESSONS if prefix == item.slug or prefix.startswith((f"{item.slug}-", f"{item.slug}:"))]
    title = max(owners, key=lambda item: len(item.slug)).title if owners else prefix
    return f"{title} · {run.label}" if run is not None and run.label else title


def _keep_session_cap(prefix: str) -> bool:
    """A student trains RUNS_PER_SESSION runs at once: starting one pauses the oldest others, with a note.
    Whether it paused any."""
    others = [
        (key.removesuffix(":run"), value)
        for key in list(st.session_state.keys())
        if isinstance(key, str) and key.endswith(":run") and key != _run_key(prefix)
        for value in [st.session_state[key]]
        if isinstance(value, TrainingRun) and value.running and not value.finished
    ]
    excess = len(others) - (RUNS_PER_SESSION - 1)
    if excess <= 0:
        return False
    paused = others[:excess]
    for _slug, run in paused:
        run.running = False
        run.last_tick = None
        _release(run)
        run.notice = (
            f"Paused when you started a run in “{run_title(prefix)}”: one student trains "
            f"{RUNS_PER_SESSION} run{'s' if RUNS_PER_SESSION > 1 else ''} at a time. "
            "▶ Resume goes on from here (and pauses the other)."
        )
    names = ", ".join(f"“{run_title(slug, run)}”" for slug, run in paused)
    st.session_state[f"{prefix}:notice"] = (
        f"Your run in {names} was paused so that this one can train (one run per student at a "
        "time); its results are kept, and ▶ Resume on its page goes on."
    )
    return True


def _start(
    prefix: str,
    factory: Callable[[], Any],
    total_steps: int,
    settings: dict,
    device: str,
    label: str,
) -> None:
    run = get_run(prefix)
    st.session_state.pop(f"{prefix}:notice", None)
    if run is not None and run.settings == settings and not run.finished and run.trainer is not None:
        _keep_session_cap(prefix)
        run.running = True  # resume
        run.last_tick = None
        run.notice = ""
        return
    st.session_state.pop(f"{prefix}:start_error", None)
    # A new run's trainer is built in the script run the click starts, under a progress bar (a real model may
    # take seconds to load; built here, in the callback, the page would show nothing until it is done)
    st.session_state[f"{prefix}:build"] = (factory, total_steps, settings, device, label)


def _build(
    prefix: str,
    factory: Callable[[], Any],
    total_steps: int,
    settings: dict,
    device: str,
    label: str,
) -> bool:
    """Build a new run's trainer and make it this session's run; on failure the message is kept for the page and
    the earlier run (its charts) stays. Whether it paused another run of this session."""
    run = get_run(prefix)
    owner, table = _owner(), run_table()
    try:
        table.check_room(owner, prefix)  # before building: a model may take seconds and memory
        trainer = factory()
        nbytes = _bytes_of(trainer)
        table.check_room(owner, prefix, nbytes)
    except Exception as exc:  # noqa: BLE001 - shown on the page (ServerFullError included)
        st.session_state[f"{prefix}:start_error"] = str(exc)
        return False
    if run is not None:
        _release(run)
    paused_another = _keep_session_cap(prefix)
    run = TrainingRun(trainer, int(total_steps), dict(settings), device, label, running=True)
    run.owner, run.slug, run.nbytes = owner, prefix, nbytes
    table.add(owner, session_id(), prefix, run, nbytes)
    st.session_state[_run_key(prefix)] = run
    return paused_another


def _pause(prefix: str) -> None:
    run = get_run(prefix)
    if run is not None:
        run.running = False
        run.last_tick = None
        run.waiting = None
        _release(run)


def _step(prefix: str, factory, total_steps: int, settings: dict, device: str, label: str) -> None:
    run = get_run(prefix)
    if run is None or run.settings != settings:
        st.session_state.pop(f"{prefix}:start_error", None)
        _build(prefix, factory, total_steps, settings, device, label)  # one chunk: the click waits for it
        run = get_run(prefix)
        if run is None or run.settings != settings:
            return
    run.running = False
    run.last_tick = None
    _release(run)
    advance(run)
    _release(run)  # Step does not keep its turn, nor a place in the queue; Start does


def _reset(prefix: str) -> None:
    run = st.session_state.pop(_run_key(prefix), None)
    st.session_state.pop(f"{prefix}:start_error", None)
    st.session_state.pop(f"{prefix}:notice", None)
    if run is not None:
        _release(run)
        run_table().remove(_owner(), prefix)
    free_memory()


def _pin(slug: str) -> None:
    run = get_run(slug)
    if run is None or not run.history:
        return
    pin(slug, run.label or f"run {len(pinned(slug)) + 1}", run.history_frame(), run.settings)


def training_panel(
    prefix: str,
    factory: Callable[[], Any],
    total_steps: int,
    settings: dict,
    render: Callable[[TrainingRun], None],
    device: str = "cpu",
    label: str = "",
    chunk_seconds: float = 0.3,
    blocked: str = "",
) -> TrainingRun | None:
    """Controls + live fragment. `render(run)` draws the page's charts from the run (also when paused). While
    `blocked` says why (an input of the page is not valid), Start and Step wait: they would train on old input."""
    building = st.session_state.pop(f"{prefix}:build", None)
    if building is not None:  # ▶ Start was pressed for a new run: build it now, saying so at once
        note = st.empty()
        note.progress(0.0, text="▶ Starting: building the model for this run (loading weights takes seconds)…")
        paused_another = _build(prefix, *building)
        note.empty()
        if paused_another:
            st.rerun()  # a panel drawn above this one showed that run as training
    run = get_run(prefix)
    running = run is not None and run.running
    args = (prefix, factory, total_steps, settings, device, label)
    cols = st.columns(5)
    resume = run is not None and run.settings == settings and not run.finished and run.steps_done > 0
    cols[0].button(
        "⏸ Pause" if running else ("▶ Resume" if resume else "▶ Start"),
        key=f"{prefix}:start",
        type="primary",
        width="stretch",
        on_click=_pause if running else _start,
        args=(prefix,) if running else args,
        disabled=bool(blocked) and not running,
        help=blocked or None,
    )
    cols[1].button(
        "⏭ Step",
        key=f"{prefix}:step",
        width="stretch",
        on_click=_step,
        args=args,
        disabled=running or bool(blocked),
        help=blocked or "Run one chunk of training",
    )
    cols[2].button("↺ Reset", key=f"{prefix}:reset", width="stretch", on_click=_reset, args=(prefix,))
    cols[3].button(
        "📌 Pin run",
        key=f"{prefix}:pin",
        width="stretch",
        on_click=_pin,
        args=(prefix,),
        disabled=run is None or not run.history,
        help="Keep this run's curve to compare with the next one (same seed).",
    )
    cols[4].button(
        "🧹 Clear pins",
        key=f"{prefix}:clearpins",
        width="stretch",
        on_click=clear_pins,
        args=(prefix,),
        disabled=not pinned(prefix),
    )
    if blocked and not running:
        st.caption(f"▶ Start waits: {blocked}")
    error = st.session_state.get(f"{prefix}:start_error")
    if error:
        st.error(error)
    notice = st.session_state.get(f"{prefix}:notice")
    if notice:
        st.info(notice)
    if run is not None and run.notice and not running:
        st.info(run.notice)
    if run is not None and run.settings != settings:
        st.info(
            "The settings changed since this run was built: Start begins a new run with them "
            "(pin this one first to compare)."
        )
    if running and run.waiting is not None:
        _live_waiting(prefix, render, chunk_seconds)
    elif running:
        _live_running(prefix, render, chunk_seconds)
    else:
        _live_idle(prefix, render, chunk_seconds)
    return get_run(prefix)


def _live_body(prefix: str, render: Callable[[TrainingRun], None], chunk_seconds: float) -> None:
    run = get_run(prefix)
    if run is None:
        st.caption("Nothing trained yet: press ▶ Start to train live, or ⏭ Step for one chunk.")
        return
    was_running, was_waiting = run.running, run.waiting is not None
    bar = st.empty()
    if run.running:
        if not run.finished:  # drawn at once: a chunk of a real model may take seconds (the first most)
            first = " (the first chunk builds caches: it takes longest)" if run.steps_done == 0 else ""
            bar.progress(run.progress, text=f"step {run.steps_done:,} / {run.total_steps:,} · training{first}…")
        advance(run, chunk_seconds)
    eta = run.eta_s
    steps = f"{run.steps_done:,}" if run.finished else f"{run.steps_done:,} / {run.total_steps:,}"
    text = (
        f"step {steps} · {run.elapsed_s:.1f} s of training"
        + ("" if run.finished else (" · estimating the time left" if eta is None else f" · about {eta:.0f} s left"))
        + (" · done" if run.finished else "")
    )
    bar.progress(run.progress, text=text)
    if run.error:
        st.warning(run.error)
    if run.running and run.waiting is not None:
        st.info(queue_message(run))
    elif run.waiting is not None:  # a Step that found the queue full
        st.info(queue_message(run) + " Press ▶ Start to keep a place in the queue.")
    if run.running and not run.finished:
        st.caption(
            "This run trains while this page is open: another page pauses it, and it goes on "
            "when you come back (your results stay)."
        )
    if run.trainer is None:  # freed by the server while the tab was closed
        st.warning(
            "This run was freed to make room: its tab was closed for more than "
            f"{RELEASE_AFTER_S:.0f} s. Press ▶ Start for a new run (a pinned curve stays)."
        )
    else:
        render(run)
    if was_running and not run.running:
        st.rerun()  # a full rerun stops the fragment timer and relabels the buttons
    if run.running and was_waiting != (run.waiting is not None):
        st.rerun()  # waiting polls slowly, training fast: switch the fragment's timer


_live_running = st.fragment(run_every=0.5)(_live_body)
_live_waiting = st.fragment(run_every=2.0)(_live_body)  # polls the queue; redraws rarely
_live_idle = st.fragment(_live_body)


def queue_message(run: TrainingRun) -> str:
    gpu = lane(run.device) == "gpu"
    capacity = MAX_GPU_JOBS if gpu else MAX_RUNS
    training, _waiting = run_queue().counts(lane(run.device))
    ahead = "yours is next" if not run.waiting else f"{run.waiting} run{'s' if run.waiting > 1 else ''} ahead of yours"
    return (
        f"⏳ Waiting for a turn: {ahead}. The server trains {capacity} "
        f"run{'s' if capacity > 1 else ''} at a time"
        f"{' on the GPU' if gpu else ''} ({training} training now), each for up to "
        f"{TURN_SECONDS:.0f} s while others wait."
    )


def server_status() -> dict:
    """What the sidebar shows: the server's counts and this session's own runs (never others')."""
    held, nbytes = run_table().totals()
    mine = {
        key.removesuffix(":run"): st.session_state[key]
        for key in list(st.session_state.keys())
        if isinstance(key, str) and key.endswith(":run") and isinstance(st.session_state[key], TrainingRun)
    }
    return {
        "training": {lane_: run_queue().counts(lane_) for lane_ in ("cpu", "gpu")},
        "held": held,
        "held_mib": nbytes / 2**20,
        "max_held": MAX_HELD_RUNS,
        "max_held_mib": MAX_HELD_MB,
        "mine": mine,
    }


def metric_chart(
    run: TrainingRun | None, metric: str, prefix: str, title: str | None = None, x: str = "step"
) -> go.Figure:
    """A live metric curve with every pinned run overlaid (compare: same seed, other settings)."""
    fig = go.Figure()
    for pin_ in pinned(prefix):
        frame = pin_["payload"]
        if isinstance(frame, pd.DataFrame) and metric in frame:
            diff = settings_diff(pin_["settings"], run.settings if run else {})
            name = f"📌 {pin_['label']}" + (f" ({short_settings({k: v[0] for k, v in diff.items()})})" if diff else "")
            fig.add_scatter(x=frame[x], y=frame[metric], mode="lines", name=name[:80], line=dict(dash="dot"))
    if run is not None and run.history:
        frame = run.history_frame()
        if metric in frame:
            fig.add_scatter(x=frame[x], y=frame[metric], mode="lines+markers", name="current run")
    fig.update_layout(
        title=title or metric,
        xaxis_title=x,
        yaxis_title=metric,
        height=320,
        legend=dict(orientation="h", y=-0.25),
    )
    return fig
