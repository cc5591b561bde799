"""Tab "Cost": active against total parameters and FLOPs per token, for the tiny model and real MoE configs."""

from __future__ import annotations

from dataclasses import replace

import pandas as pd
import streamlit as st

from app.lessons.moe import figures
from app.page import LessonPage
from models.moe.cost import REAL_CONFIGS, expert_budget, moe_cost, tiny_model_cost
from models.moe.model import TinyMoELM

TITLE = "Cost"


def _row(name: str, cost: dict, source: str = "") -> dict:
    return {
        "model": name,
        "total params": cost["total_params"],
        "active params": cost["active_params"],
        "active share": cost["active_share"],
        "GFLOPs / token (this MoE = dense of same active size)": cost["flops_per_token"] / 1e9,
        "GFLOPs / token (dense of same total size)": cost["dense_same_total_flops"] / 1e9,
        "source": source,
    }


def render(page: LessonPage) -> None:
    c = page.data.config
    run = page.run()
    model = TinyMoELM(replace(c, vocab_size=100))  # these settings' counts, with a vocabulary of 100 characters
    if run is not None:
        trained = run.trainer.trainers["none"]
        if replace(trained.config, vocab_size=c.vocab_size, balance=c.balance) == c:  # the run has these settings
            model = trained.model  # its own vocabulary
    tiny = tiny_model_cost(model)
    cols = st.columns(4)
    cols[0].metric("Tiny model: total parameters", f"{tiny['total_params']:,}")
    cols[1].metric(f"active per token ({tiny['active_share']:.0%})", f"{tiny['active_params']:,}")
    cols[2].metric("FLOPs per token", f"{tiny['flops_per_token']:,}")
    cols[3].metric("FLOPs: dense of the same total size", f"{tiny['dense_same_total_flops']:,}")
    st.caption(
        "FLOPs per token ≈ 2 × the matmul weights a token passes through (attention scores, which grow "
        "with the context, are left out). Counted on the model's own parameters."
    )
    budget = expert_budget(c.n_experts, c.top_k, c.n_shared, c.d_model, c.d_expert)
    cols = st.columns(3)
    cols[0].metric("Expert weights per MoE layer: stored", f"{budget['stored']:,}")
    cols[1].metric("used per token", f"{budget['active']:,}")
    cols[2].metric(f"expert sets a token can take, C({c.n_experts}, {c.top_k})", f"{budget['combinations']:,}")
    st.caption(
        f"{c.n_experts} routed experts of width {c.d_expert}, top-{c.top_k}"
        + (f", plus {c.n_shared} shared of the same width (every token)" if c.n_shared else ", no shared expert")
        + ". Splitting every expert in m narrower ones and routing to m·k of them (DeepSeekMoE's fine-grained "
        "experts) keeps the weights stored and used, and multiplies the sets of experts a token can be sent to."
    )

    st.subheader("Real MoE models")
    left, right = st.columns([1, 2])
    with left:
        page.widget(st.selectbox, "arch", "Model", list(REAL_CONFIGS), default="Mixtral-8x7B")
        page.widget(st.checkbox, "what_if", "What if: other E and k", default=False)
        page.widget(
            st.number_input, "calc_experts", "Experts E", 1, 1024, default=8, disabled=not page.value("what_if", False)
        )
        page.widget(
            st.number_input,
            "calc_top_k",
            "Experts per token k",
            1,
            64,
            default=2,
            disabled=not page.value("what_if", False),
        )
    arch = REAL_CONFIGS[page.value("arch", "Mixtral-8x7B")]
    if page.value("what_if"):
        e, k = int(page.value("calc_experts", 8)), int(page.value("calc_top_k", 2))
        if k > e:
            st.error(f"k ({k}) cannot exceed E ({e}): lower k or add experts.")
        else:
            arch = replace(arch, name=f"{arch.name} (E={e}, k={k})", n_experts=e, top_k=k)
    chosen = moe_cost(arch)
    with right:
        a, b, d = st.columns(3)
        a.metric(f"{arch.name}: total", f"{chosen['total_params'] / 1e9:.1f} B")
        b.metric(
            f"active per token ({chosen['active_share']:.1%})",
            f"{chosen['active_params'] / 1e9:.1f} B",
        )
        d.metric("GFLOPs per token", f"{chosen['flops_per_token'] / 1e9:.1f}")
        st.caption(f"Published: {REAL_CONFIGS[arch.name.split(' (')[0]].published}. Config: {arch.source}.")
    costs = {name: moe_cost(a_) for name, a_ in REAL_CONFIGS.items()}
    if arch.name not in costs:
        costs[arch.name] = chosen
    page.chart(figures.cost_figure(costs), None, "cost")
    table = pd.DataFrame([_row(n, costs[n], getattr(REAL_CONFIGS.get(n), "source", "what-if")) for n in costs])
    cfg = pd.DataFrame(
        [
            {
                "model": a_.name,
                "hidden": a_.hidden,
                "layers": a_.layers,
                "experts E": a_.n_experts,
                "k": a_.top_k,
                "expert width": a_.expert_hidden,
                "shared width": a_.shared_hidden,
                "dense layers": a_.dense_layers,
                "vocab": a_.vocab,
                "source": a_.source,
            }
            for a_ in REAL_CONFIGS.values()
        ]
    )
    page.table(
        table.style.format(
            {
                "total params": "{:,.0f}",
                "active params": "{:,.0f}",
                "active share": "{:.1%}",
                "GFLOPs / token (this MoE = dense of same active size)": "{:.1f}",
                "GFLOPs / token (dense of same total size)": "{:.1f}",
            }
        ),
        hide_index=True,
        width="stretch",
    )
    st.caption("The configurations (transformers' config defaults, which are the released config.json values):")
    page.table(cfg, hide_index=True, width="stretch")
