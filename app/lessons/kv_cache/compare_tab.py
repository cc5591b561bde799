"""Tab "Compare policies": every chosen policy and the full cache on the same text, at one budget.

Before any run, the full cache's loss along the text (one forward pass, shared by every student who opens the
page with the same settings) is drawn at once, with the point where a budgeted cache must start to drop tokens.
"""

from __future__ import annotations

import streamlit as st

from app.lessons.kv_cache import figures
from app.page import LessonPage
from models.kv_cache.cache import AT_PREFILL, full_cache_losses
from models.kv_cache.compare import PolicyComparison, comparison_jobs

TITLE = "Compare policies"


def make_runs(shared, quantised: bool = False) -> PolicyComparison:
    jobs = comparison_jobs(shared.config, quantised)
    return PolicyComparison(shared.model, shared.tokenizer, shared.ids, jobs, shared.config)


def runs_results(page: LessonPage) -> dict:
    run = page.run()
    return {} if run is None else run.trainer.results


def shared_full_losses(source: str, n_tokens: int, _model, _ids: list[int]):
    """The full cache's losses for a named text (`source`, `n_tokens` name it; the model and ids ride along)."""
    return full_cache_losses(_model, _ids)


def render(page: LessonPage) -> None:
    shared = page.data
    config = shared.config
    prefill = [p for p in config.policies if p in AT_PREFILL]
    prompt = max(1, len(shared.ids) * config.prompt_share // 100)
    st.caption(
        f"{len(shared.ids)} tokens, budget {config.budget}, {config.chunk} tokens per step. "
        "Eviction during decoding (window, StreamingLLM, H2O, R-KV, the streaming variants) prunes before "
        "every step that would overflow. "
        + (
            f"Compression at prefill ({', '.join(prefill)}): the first {prompt} tokens are the prompt, read at "
            f"once and cut to the budget once; the last {len(shared.ids) - prompt} are decoded onto that cache "
            "with no further eviction, so compare them on those tokens (the table's last perplexity column). "
            if prefill
            else ""
        )
        + "Positions: every policy keeps each key at its position in the text, except StreamingLLM, which numbers "
        "the cached tokens 0, 1, 2, … as its paper does (keys re-rotated every step)."
    )
    if config.budget >= len(shared.ids):
        st.info(
            f"The budget ({config.budget}) covers the whole text ({len(shared.ids)} tokens): every "
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
        label=f"budget {config.budget}",
    )
    run = page.run()
    if run is None or not run.trainer.results:
        _first_view(page, shared)


def _first_view(page: LessonPage, shared) -> None:
    """Step 0: the full cache's loss along the text, with the budget marked (no click needed)."""
    if shared.source == "user":  # a student's own text is never shared with other sessions
        losses = page.compute("full-losses", "Reading the text", full_cache_losses, shared.model, shared.ids)
    else:
        losses = page.compute(
            "full-losses",
            "Reading the text",
            page.shared,
            shared_full_losses,
            shared.source,
            len(shared.ids),
            shared.model,
            shared.ids,
        )
    if losses is None:
        return
    frame = figures.rolling_frame({"Full cache": losses}, 16)
    page.chart(figures.first_view_figure(frame, shared.config.budget, 16), frame, "first-view")
    st.caption(
        "Before any run: the full cache's next-token loss along the text (one forward pass). Beyond the dotted "
        "line the text is longer than the budget, so every policy must start dropping tokens there; "
        "press ▶ Start to see what each one's choice costs."
    )


def _draw(page: LessonPage, runs: PolicyComparison, shared) -> None:
    if not runs.done:
        st.caption(f"Running: {runs.current()}")
    results = runs.results
    if not results:
        return
    table = figures.summary_table(results)
    page.table(table, hide_index=True, width="stretch")
    st.caption(
        "Decode tokens/s: every run, the full cache included, reads its first step at once (the budget, or the "
        "prompt for compression at prefill) and then decodes the same steps of "
        f"{shared.config.chunk} tokens, so the speeds compare like with like. Cache MB: the K and V tensors "
        "measured at their peak (a prompt compressed at prefill is held whole during its prefill) and at the end."
    )
    page.chart(figures.perplexity_bars(table), table, "perplexity")
    pair = [name for name in results if name.startswith(("Window", "StreamingLLM"))]
    if pair:
        width = 16
        frame = figures.rolling_loss(results, ["Full cache"] + pair, width)
        page.chart(figures.loss_by_position(frame, shared.config.budget, width), frame, "loss")
        st.caption(
            "Window-only attention loses the first token when the cache fills; the model had put much of "
            "every head's attention there (an attention sink), and without it the softmax spreads that mass "
            "over tokens that do not deserve it. Sink tokens kept beside the window fix most of it."
        )
