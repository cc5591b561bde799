"""Mixture-of-Experts routing (Lecture 16): one module per tab; the shared settings are built by `controls`."""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from app.lessons.moe import cost_tab, router_tab, routing_tab, train_tab
from app.lessons.moe.data import CORPORA, training_text
from app.page import LessonPage, Preset
from models.moe.model import ROUTERS, MoEConfig

INTRO = (
    "A **Mixture-of-Experts** layer replaces one big MLP by E small ones (*experts*) and a **router** that sends "
    "each token to only k of them: the model stores E experts' weights but spends the compute of k. Nothing in "
    "plain training keeps the router fair: experts that win early get more gradient and more tokens, and the "
    "load **collapses** onto a few. Below, three copies of one tiny character-level MoE language model train "
    "side by side from one seed: with **no balancing**, with the Switch Transformer's **auxiliary loss**, and "
    "with DeepSeek-V3's **auxiliary-loss-free bias**."
)

ROUTER_NAMES = {
    "softmax": "softmax top-k (Mixtral)",
    "sigmoid": "sigmoid + bias (DeepSeek-V3)",
    "noisy": "noisy top-k (Shazeer 2017)",
    "hash": "hash of the token (baseline)",
    "expert_choice": "expert choice (Zhou 2022)",
}

PRESETS = {
    "Lecture demo: collapse without balancing": Preset(
        "Press Start: within about 20 steps the unbalanced run sends half of layer 2's tokens to one or two "
        "experts (coefficient of variation above 1) while the aux-loss and bias runs stay near the ideal 1/E.",
        tab=train_tab.TITLE,
    ),
    "Lecture demo: top-1 collapses harder": Preset(
        "With one expert per token the unbalanced run's busiest expert takes well over half of the tokens.",
        tab=train_tab.TITLE,
        values={"top_k": 1},
    ),
    "Lecture demo: capacity drops tokens": Preset(
        "Each expert takes at most its fair share (capacity factor 1.0): the collapsed run drops many "
        "token assignments, the balanced runs few.",
        tab=train_tab.TITLE,
        values={"use_capacity": True, "capacity_factor": 1.0},
    ),
    "Lecture demo: the bias at work": Preset(
        "One character through DeepSeek-V3's sigmoid router: the bias changes which experts are picked, "
        "never their weights.",
        tab=router_tab.TITLE,
        values={"router": "sigmoid"},
    ),
    "Lecture demo: DeepSeek-V3 active against total": Preset(
        "DeepSeek-V3 stores 671B parameters but uses about 37B (5.6 %) per token.",
        tab=cost_tab.TITLE,
        values={"arch": "DeepSeek-V3"},
    ),
}
TABS = [train_tab, routing_tab, router_tab, cost_tab]


@dataclass
class Setup:
    config: MoEConfig
    text: str  # the training text
    text_label: str


def controls(page: LessonPage) -> Setup | None:
    cols = st.columns(4)
    with cols[0]:
        page.widget(
            st.slider,
            "n_experts",
            "Experts E",
            1,
            16,
            default=8,
            help="Routed experts per MoE layer.",
        )
        page.widget(
            st.slider,
            "top_k",
            "Experts per token k",
            1,
            8,
            default=2,
            help="How many experts each token is sent to (must be at most E).",
        )
    with cols[1]:
        page.widget(
            st.selectbox,
            "router",
            "Router",
            list(ROUTERS),
            default="softmax",
            format_func=ROUTER_NAMES.get,
            help="How the k experts are chosen and weighted.",
        )
        page.widget(
            st.slider,
            "n_shared",
            "Shared experts",
            0,
            2,
            default=0,
            help="Experts every token passes through (DeepSeekMoE), on top of the routed ones.",
        )
    with cols[2]:
        page.widget(
            st.checkbox,
            "use_capacity",
            "Limit each expert's capacity",
            default=False,
            help="Each expert takes at most factor · N·k/E assignments per batch; the rest are dropped.",
        )
        page.widget(
            st.number_input,
            "capacity_factor",
            "Capacity factor",
            default=1.25,
            step=0.25,
            disabled=not page.value("use_capacity", False),
        )
        page.widget(st.number_input, "steps", "Training steps", 10, 3000, default=150, step=50)
    with cols[3]:
        page.widget(
            st.number_input,
            "aux_loss_coef",
            "Aux-loss coefficient",
            default=0.01,
            step=0.005,
            format="%.3f",
            help="Weight of the Switch balancing loss in the 'aux loss' run.",
        )
        page.widget(
            st.number_input,
            "bias_update_rate",
            "Bias update rate γ",
            default=0.01,
            step=0.001,
            format="%.4f",
            help="Step of DeepSeek-V3's bias update in the 'bias' run (it used 0.001 over far more steps).",
        )
        page.widget(
            st.selectbox,
            "corpus",
            "Training text",
            list(CORPORA),
            default="wiki",
            format_func=CORPORA.get,
        )
    if page.value("corpus") == "user":
        page.widget(
            st.text_area,
            "user_text",
            "Your text (at least a few hundred characters)",
            default="",
            height=100,
            url=False,
        )
    capacity = page.value("capacity_factor") if page.value("use_capacity") else None
    config = page.config(MoEConfig, "The MoE settings", capacity_factor=capacity)
    text = page.compute(
        "text",
        "Reading the training text",
        training_text,
        page.value("corpus", "wiki"),
        page.value("user_text", ""),
        (config or MoEConfig()).context,
    )
    if config is None or text is None:
        return None
    return Setup(config, text[1], text[0])
