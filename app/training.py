"""The live-training kit: a model's step function run in short chunks inside a Streamlit fragment.

A lesson calls it through `LessonPage.train` (app/page.py). It gives `training_panel` a factory for its trainer (any object with `train_steps(n) -> dict of floats`,
optionally a `done` attribute), the number of steps, the settings the run is built from, and a `render(run)`
function that draws the run. The kit draws Start / Pause / Step / Reset / Pin, advances the run by one chunk
(about `chunk_seconds` of work, sized adaptively) on each fragment rerun, shows progress with an ETA, and keeps
the run in session state, so leaving the page and coming back keeps the results. Nothing trains until the user
presses Start or Step. GPU runs take one of a few shared slots, so a class of students cannot all train on one GPU
at once.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from app.lecture import clear_pins, pin, pinned, settings_diff, short_settings
from models.device import free_memory, is_out_of_memory

MAX_GPU_JOBS = int(os.environ.get("NLP_PLAYGROUND_GPU_JOBS", "2"))
STALE_SECONDS = 60.0  # a GPU slot whose run made no progress for this long is given back


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
    run_id: str = field(default_factory=lambda: f"run-{time.monotonic_ns()}")

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


class GpuSlots:
    """At most `capacity` runs hold the GPU; slots of runs idle for STALE_SECONDS are reclaimed."""

    def __init__(self, capacity: int):
        self.capacity = capacity
        self._holders: dict[str, float] = {}
        self._lock = threading.Lock()

    def acquire(self, run_id: str) -> bool:
        now = time.monotonic()
        with self._lock:
            for holder, seen in list(self._holders.items()):
                if now - seen > STALE_SECONDS:
                    del self._holders[holder]
            if run_id in self._holders or len(self._holders) < self.capacity:
                self._holders[run_id] = now
                return True
            return False

    def release(self, run_id: str) -> None:
        with self._lock:
            self._holders.pop(run_id, None)


@st.cache_resource
def gpu_slots() -> GpuSlots:
    return GpuSlots(MAX_GPU_JOBS)


def _run_key(slug: str) -> str:
    return f"{slug}:run"


def get_run(slug: str) -> TrainingRun | None:
    return st.session_state.get(_run_key(slug))


def advance(run: TrainingRun, chunk_seconds: float = 0.3) -> None:
    """Do one chunk of training (about chunk_seconds of work) and record its metrics."""
    if run.finished:
        run.running = False
        return
    if run.device != "cpu" and not gpu_slots().acquire(run.run_id):
        run.error = "The GPU is busy with other training runs; this run waits for a free slot."
        return
    n = max(1, min(run.steps_per_chunk, run.total_steps - run.steps_done))
    start = time.perf_counter()
    try:
        metrics = run.trainer.train_steps(n)
    except Exception as exc:  # noqa: BLE001 - any failure stops the run with a message
        run.running = False
        if is_out_of_memory(exc):
            free_memory()
            run.error = (
                "The GPU ran out of memory. The memory was freed; reset and try smaller "
                "settings, or switch the device to cpu in the sidebar."
            )
        else:
            run.error = f"Training stopped: {exc}"
        gpu_slots().release(run.run_id)
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
    # size the next chunk so that it takes about chunk_seconds (growth limited to x4 per chunk)
    target = n * chunk_seconds / max(seconds, 1e-4)
    run.steps_per_chunk = int(max(1, min(target, 4 * n)))
    if run.finished:
        run.running = False
        gpu_slots().release(run.run_id)


def _start(
    prefix: str,
    factory: Callable[[], Any],
    total_steps: int,
    settings: dict,
    device: str,
    label: str,
) -> None:
    run = get_run(prefix)
    if run is not None and run.settings == settings and not run.finished:
        run.running = True  # resume
        run.last_tick = None
        return
    st.session_state.pop(f"{prefix}:start_error", None)
    try:
        trainer = factory()
    except Exception as exc:  # noqa: BLE001 - shown on the page
        st.session_state[f"{prefix}:start_error"] = str(exc)
        return
    st.session_state[_run_key(prefix)] = TrainingRun(
        trainer, int(total_steps), dict(settings), device, label, running=True
    )


def _pause(prefix: str) -> None:
    run = get_run(prefix)
    if run is not None:
        run.running = False
        run.last_tick = None


def _step(prefix: str, factory, total_steps: int, settings: dict, device: str, label: str) -> None:
    run = get_run(prefix)
    if run is None or run.settings != settings:
        _start(prefix, factory, total_steps, settings, device, label)
        run = get_run(prefix)
        if run is None:
            return
    run.running = False
    run.last_tick = None
    advance(run)


def _reset(prefix: str) -> None:
    run = st.session_state.pop(_run_key(prefix), None)
    st.session_state.pop(f"{prefix}:start_error", None)
    if run is not None:
        gpu_slots().release(run.run_id)
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
) -> TrainingRun | None:
    """Controls + live fragment. `render(run)` draws the page's charts from the run (also when paused)."""
    run = get_run(prefix)
    running = run is not None and run.running
    args = (prefix, factory, total_steps, settings, device, label)
    cols = st.columns(5)
    resume = (
        run is not None and run.settings == settings and not run.finished and run.steps_done > 0
    )
    cols[0].button(
        "⏸ Pause" if running else ("▶ Resume" if resume else "▶ Start"),
        key=f"{prefix}:start",
        type="primary",
        width="stretch",
        on_click=_pause if running else _start,
        args=(prefix,) if running else args,
    )
    cols[1].button(
        "⏭ Step",
        key=f"{prefix}:step",
        width="stretch",
        on_click=_step,
        args=args,
        disabled=running,
        help="Run one chunk of training",
    )
    cols[2].button(
        "↺ Reset", key=f"{prefix}:reset", width="stretch", on_click=_reset, args=(prefix,)
    )
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
    error = st.session_state.get(f"{prefix}:start_error")
    if error:
        st.error(error)
    if run is not None and run.settings != settings:
        st.info(
            "The settings changed since this run was built: Start begins a new run with them "
            "(pin this one first to compare)."
        )
    if running:
        _live_running(prefix, render, chunk_seconds)
    else:
        _live_idle(prefix, render, chunk_seconds)
    return get_run(prefix)


def _live_body(prefix: str, render: Callable[[TrainingRun], None], chunk_seconds: float) -> None:
    run = get_run(prefix)
    if run is None:
        st.caption("Nothing trained yet: press ▶ Start to train live, or ⏭ Step for one chunk.")
        return
    was_running = run.running
    if run.running:
        advance(run, chunk_seconds)
    eta = run.eta_s
    steps = f"{run.steps_done:,}" if run.finished else f"{run.steps_done:,} / {run.total_steps:,}"
    text = (
        f"step {steps} · {run.elapsed_s:.1f} s of training"
        + (
            ""
            if run.finished
            else (" · estimating the time left" if eta is None else f" · about {eta:.0f} s left")
        )
        + (" · done" if run.finished else "")
    )
    st.progress(run.progress, text=text)
    if run.error:
        st.warning(run.error)
    render(run)
    if was_running and not run.running:
        st.rerun()  # a full rerun stops the fragment timer and relabels the buttons


_live_running = st.fragment(run_every=0.5)(_live_body)
_live_idle = st.fragment(_live_body)


def metric_chart(
    run: TrainingRun | None, metric: str, prefix: str, title: str | None = None, x: str = "step"
) -> go.Figure:
    """A live metric curve with every pinned run overlaid (compare: same seed, other settings)."""
    fig = go.Figure()
    for pin_ in pinned(prefix):
        frame = pin_["payload"]
        if isinstance(frame, pd.DataFrame) and metric in frame:
            diff = settings_diff(pin_["settings"], run.settings if run else {})
            name = f"📌 {pin_['label']}" + (
                f" ({short_settings({k: v[0] for k, v in diff.items()})})" if diff else ""
            )
            fig.add_scatter(
                x=frame[x], y=frame[metric], mode="lines", name=name[:80], line=dict(dash="dot")
            )
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
