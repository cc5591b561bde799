"""Tab "Kept tokens": PyramidKV's budgets per layer (at once), and what each policy keeps, step by step."""

from __future__ import annotations

import streamlit as st

from app.lessons.kv_cache import figures
from app.lessons.kv_cache.compare_tab import runs_results
from app.page import LessonPage
from models.kv_cache.policies import PyramidKV, layer_budgets

TITLE = "Kept tokens"


def pyramid_budgets(shared) -> dict[str, list[int]]:
    """{PyramidKV run label: per-layer budgets} for the chosen PyramidKV policies, from the formula (no run needed):
    at prefill for the prompt's length, streaming for the whole text (its budgets at the last eviction)."""
    config, n_layers = shared.config, shared.model.config.num_hidden_layers
    prompt = max(1, len(shared.ids) * config.prompt_share // 100)
    beta = PyramidKV().beta
    out = {}
    for name in config.policies:
        if name.startswith("PyramidKV"):
            length = prompt if name == "PyramidKV" else len(shared.ids)
            out[f"{name} @ {config.budget}"] = layer_budgets(config.budget, n_layers, length, config.window, beta)
    return out


def render(page: LessonPage) -> None:
    shared = page.data
    results = {name: r for name, r in runs_results(page).items() if r.kept is not None}
    _budgets(page, shared, results)
    evicting = [name for name in results if name != "Full cache"]
    if not evicting:
        st.info("Press ▶ Start in “Compare policies”: this tab then draws what each policy kept, run by run.")
        return
    n_layers, n_heads = results[evicting[0]].kept.shape[1:3]
    if page.value("show_policy") not in evicting:  # a run without the policy shown before
        page.set_value("show_policy", evicting[0])
    cols = st.columns(3)
    with cols[0]:
        name = page.widget(st.selectbox, "show_policy", "Policy", evicting, default=evicting[0])
    with cols[1]:
        layer = page.widget(st.slider, "layer", "Layer", 0, int(n_layers) - 1, default=0)
    with cols[2]:
        head = page.widget(st.slider, "head", "KV head", 0, int(n_heads) - 1, default=0)
    result = results.get(name, results[evicting[0]])
    sinks = shared.config.sinks if result.policy.startswith("StreamingLLM") else 0
    frame = figures.kept_frame(result, layer, head, sinks)
    page.chart(figures.kept_heatmap(result, layer, head, sinks), frame, "kept")
    st.caption(
        "Each row is one decode step, each column a token of the text: blue = in the cache (the query "
        "could attend to it), red = a kept sink, grey = evicted or not read yet. The diagonal edge is the "
        "text being read; a window is a band, H2O and the streaming SnapKV keep scattered heavy hitters. "
        "Compression at prefill (SnapKV, PyramidKV) shows its prompt read whole in the first row, then one cut: "
        "from there the kept prompt tokens never change and every decoded token stays."
    )
    frames = {n: figures.survival(r, layer, head) for n, r in results.items() if n in evicting}
    page.chart(figures.survival_figure(frames), frames[name], "survival")


def _budgets(page: LessonPage, shared, results: dict) -> None:
    """PyramidKV's per-layer budgets, drawn from its formula as soon as it is chosen, replaced by what a finished
    run measured (only PyramidKV: the other policies give every layer the same budget, a flat line)."""
    budgets = pyramid_budgets(shared)
    budgets |= {name: r.layer_budgets for name, r in results.items() if name in budgets}
    if not budgets:
        return
    frame = figures.layer_budget_frame(budgets)
    prompt = max(1, len(shared.ids) * shared.config.prompt_share // 100)
    title = f"PyramidKV: tokens kept per layer (budget {shared.config.budget} on average, prompt of {prompt} tokens)"
    page.chart(figures.layer_budget_figure(frame, shared.config.budget, title), frame, "layer-budgets")
    flat = [n for n, b in budgets.items() if len(set(b)) == 1]
    if flat:
        st.info(
            f"{flat[0]} keeps equal budgets here: its top layer would get budget / β, less than the "
            "observation window, so (as in kvpress) it falls back to SnapKV's equal split. Raise the budget "
            "(e.g. 48 or more with a window of 8) to see the pyramid."
        )
    else:
        first = next(iter(budgets.values()))
        st.caption(
            f"PyramidKV: layer 0 keeps {first[0]} tokens per KV head, layer {len(first) - 1} keeps {first[-1]}, "
            f"{sum(first) / len(first):.0f} on average like SnapKV's equal split. Attention in the lower layers "
            "is spread wide, in the upper layers it concentrates on a few tokens, so the same total is split as "
            "an arithmetic sequence, top layer ≈ budget / β (β = 4 here; kvpress's defaults, window 64 and β "
            "20, fall back to equal budgets below ~1,300 tokens). At prefill the pyramid is sized for the prompt."
        )
