"""Tab "Compare policies": every chosen policy and the full cache on the same text, at one budget."""

from __future__ import annotations

import streamlit as st

from app.lessons.kv_cache import figures
from app.page import LessonPage
from models.kv_cache.compare import PolicyComparison, comparison_jobs

TITLE = "Compare policies"


def make_runs(shared, quantised: bool = False) -> PolicyComparison:
    jobs = comparison_jobs(shared.config, quantised)
    return PolicyComparison(shared.model, shared.tokenizer, shared.ids, jobs, shared.config)


def runs_results(page: LessonPage) -> dict:
    run = page.run()
    return {} if run is None else run.trainer.results


def render(page: LessonPage) -> None:
    shared = page.data
    st.caption(
        f"{len(shared.ids)} tokens, budget {shared.config.budget}, {shared.config.chunk} tokens per step. "
        "Positions: every policy keeps each key at its position in the text, except StreamingLLM, which "
        "numbers the cached tokens 0, 1, 2, … as its paper does (keys re-rotated every step)."
    )
    if shared.config.budget >= len(shared.ids):
        st.info(
            f"The budget ({shared.config.budget}) covers the whole text ({len(shared.ids)} tokens): every "
            "policy equals the full cache. Lower the budget or lengthen the text to see eviction."
        )
    runs = page.compute("runs", "Preparing the runs", make_runs, shared)
    if runs is None:
        return
    page.train(
        lambda: make_runs(shared),
        total_steps=runs.total_steps,
        render=lambda run: _draw(page, run.trainer, shared),
        settings=shared.run_settings,
        label=f"budget {shared.config.budget}",
    )


def _draw(page: LessonPage, runs: PolicyComparison, shared) -> None:
    if not runs.done:
        st.caption(f"Running: {runs.current()}")
    results = runs.results
    if not results:
        return
    table = figures.summary_table(results)
    st.dataframe(table, hide_index=True, width="stretch")
    page.chart(figures.perplexity_bars(table), table, "perplexity")
    pair = [name for name in results if name.startswith(("Window", "StreamingLLM"))]
    if pair:
        width = 16
        frame = figures.rolling_loss(results, ["Full cache"] + pair, width)
        page.chart(figures.loss_by_position(frame, shared.config.budget, width), frame, "loss")
        st.caption(
            "Window-only attention loses the first token when the cache fills; the model had put much of "
            "every head's attention there (an attention sink), and without it the softmax spreads that mass "
            "over tokens that do not deserve it. Four (or one) sink tokens kept beside the window fix it."
        )
