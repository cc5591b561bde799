"""Tab "Kept tokens": what each policy keeps, step by step, for one layer and KV head."""

from __future__ import annotations

import streamlit as st

from app.lessons.kv_cache import figures
from app.lessons.kv_cache.compare_tab import runs_results
from app.page import LessonPage

TITLE = "Kept tokens"


def render(page: LessonPage) -> None:
    results = {name: r for name, r in runs_results(page).items() if r.kept is not None}
    evicting = [name for name in results if name != "Full cache"]
    if not evicting:
        st.info("Press ▶ Start in “Compare policies”: this tab draws the runs as they finish.")
        return
    shared = page.data
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
        "text being read; a window is a band, H2O and SnapKV keep scattered heavy hitters."
    )
    frames = {n: figures.survival(r, layer, head) for n, r in results.items() if n in evicting}
    page.chart(figures.survival_figure(frames), frames[name], "survival")
    budgets = {n: r.layer_budgets for n, r in results.items() if n in evicting}
    page.chart(
        figures.layer_budget_figure(budgets),
        None,
        "layer-budgets",
    )
    flat = [n for n, b in budgets.items() if n.startswith("PyramidKV") and len(set(b)) == 1]
    if flat:
        st.info(
            f"{flat[0]} kept equal budgets here: its top layer would get budget / β, less than the "
            "observation window, so (as in kvpress) it falls back to SnapKV's equal split. Raise the budget "
            "(e.g. 48 or more with a window of 8) to see the pyramid."
        )
    if any(n.startswith("PyramidKV") for n in budgets):
        st.caption(
            "PyramidKV: attention in the lower layers is spread wide, in the upper layers it concentrates "
            "on a few tokens, so the same total is split as an arithmetic sequence, top layer ≈ budget / β "
            "(β = 4 here; kvpress's defaults, window 64 and β 20, fall back to equal budgets below ~1,300)."
        )
