"""Tab "Perplexity vs budget": each policy at several budgets, against the full cache (StreamingLLM's figure)."""

from __future__ import annotations

import streamlit as st

from app.lessons.kv_cache import figures
from app.page import LessonPage
from models.kv_cache.compare import PolicyComparison, sweep_jobs

TITLE = "Perplexity vs budget"
BUDGETS = [16, 24, 32, 48, 64, 96, 128, 192, 256, 512]


def make_sweep(shared, budgets: list[int]) -> PolicyComparison:
    jobs = sweep_jobs(shared.config, budgets)
    return PolicyComparison(shared.model, shared.tokenizer, shared.ids, jobs, shared.config, keep_masks=False)


def _usable(budgets: list[int], shared) -> list[int]:
    config = shared.config
    low = max(config.sinks + 1, config.window) + config.chunk
    usable = sorted(b for b in budgets if low <= b < len(shared.ids))
    if not usable:
        raise ValueError(
            f"No chosen budget lies between {low} (sinks or window + a step's tokens) and the text's "
            f"{len(shared.ids)} tokens."
        )
    return usable


def render(page: LessonPage) -> None:
    shared = page.data
    page.widget(
        st.multiselect,
        "sweep_budgets",
        "Budgets",
        BUDGETS,
        default=[16, 32, 64, 128],
        help="Each policy runs once per budget: the sweep takes policies × budgets runs.",
    )
    budgets = page.compute(
        "sweep-budgets",
        "Choosing the budgets",
        _usable,
        list(page.value("sweep_budgets", [])),
        shared,
    )
    if budgets is None:
        return
    sweep = page.compute("sweep", "Preparing the sweep", make_sweep, shared, budgets)
    if sweep is None:
        return
    st.caption(f"{len(sweep.jobs)} runs of {len(shared.ids)} tokens each; a run's perplexity is over the whole text.")
    page.train(
        run="sweep",
        factory=lambda: make_sweep(shared, budgets),
        total_steps=sweep.total_steps,
        settings=shared.run_settings | {"sweep_budgets": budgets},
        render=lambda run: _draw(page, run.trainer),
        device=page.device,
        label="sweep",
    )


def _draw(page: LessonPage, sweep: PolicyComparison) -> None:
    if not sweep.done:
        st.caption(f"Running: {sweep.current()}")
    results = sweep.results
    frame = figures.sweep_frame(results)
    if frame.empty:
        return
    full = results["Full cache"].perplexity if "Full cache" in results else None
    page.chart(figures.sweep_figure(frame, full), frame, "sweep")
