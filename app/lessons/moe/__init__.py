"""Mixture-of-Experts routing (Lecture 16): one module per tab; the shared settings are built by `controls`."""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from app.lessons.moe import cost_tab, router_tab, routing_tab, train_tab
from app.lessons.moe.data import CORPORA, training_text
from app.page import LessonPage, Preset
from models.moe.model import ROUTERS, MoEConfig

INTRO = (
    "A **Mixture-of-Experts** layer replaces a block's MLP by E expert MLPs and a **router** that sends each "
    "token to only k of them: the model stores E experts' weights but spends the compute of k. In the Switch "
    "Transformer and Mixtral every expert is a full-size MLP (Mixtral-8x7B: 8 experts, each as wide as "
    "Mistral-7B's MLP, 2 per token); **DeepSeekMoE** splits them into many narrow experts, routes to more of "
    "them, and adds **shared experts** that every token passes through (DeepSeek-V3: 256 routed experts, 8 per "
    "token, plus 1 shared). Nothing in plain training keeps the router fair: experts that win early get more "
    "gradient and more tokens, and the load **collapses** onto a few. Below, three copies of one tiny "
    "character-level MoE language model train side by side from one seed: with **no balancing**, with the Switch "
    "Transformer's **auxiliary loss**, and with DeepSeek-V3's **auxiliary-loss-free bias**."
)

ROUTER_NAMES = {
    "softmax": "softmax top-k (Mixtral)",
    "sigmoid": "sigmoid + bias (DeepSeek-V3)",
    "noisy": "noisy top-k (Shazeer 2017)",
    "hash": "hash of the token (baseline)",
    "expert_choice": "expert choice (Zhou 2022)",
}

# What each preset's tooltip claims, read off the page's own table or text: seed 0 (every run of the lesson), the
# Wikipedia sample, CPU. tests/pages/test_moe_page.py applies each preset on a fresh page, trains to the step it names
# and asserts these (the 150-step ones in slow tests); shares of routed assignments in whole percent (the test allows
# ±0.6 point: one and two torch threads differ by up to 0.3). "seeds": the range over seeds 0-2, from
# `python -m benchmarks.moe --claims`; seed 0 gave the same numbers with 1 and 2 threads.
CLAIMS = {
    "collapse": {"step": 150, "none": 49, "aux": 17, "bias": 14, "seeds": {"none": (44, 49), "aux": (17, 19)}},
    "top1": {"step": 20, "none": 71, "aux": 13, "seeds": {"none": (71, 99), "aux": (13, 14)}},
    "capacity": {  # dropped assignments
        "step": 150,
        "none": 26,
        "aux": 7,
        "bias": 7,
        "seeds": {"none": (26, 44), "aux": (7, 11), "bias": (6, 8)},
    },
    "bias": {"step": 50, "max_b": 0.22, "changed": 57, "of": 64, "seeds": {"max_b": (0.22, 0.34), "changed": (38, 57)}},
    "deepseek": {"total": 671.0, "active": 37.6, "share": 5.6},  # billions, %
    "fine": {"stored": 196_608, "active": 49_152, "combinations": 455, "coarse_combinations": 28},
}
_C = CLAIMS


def _seeds(claim: str, run: str, unit: str = " %") -> str:
    low, high = CLAIMS[claim]["seeds"][run]
    return f"{low}{unit}" if low == high else f"{low}-{high}{unit}"


PRESETS = {
    "Lecture demo: collapse without balancing": Preset(
        f"Press Start ({_C['collapse']['step']} steps): the unbalanced run's busiest expert then holds "
        f"{_C['collapse']['none']} % of a layer's routed assignments (ideal 1/E = 12.5 %; 50 % means every token), "
        f"the aux-loss run's {_C['collapse']['aux']} % and the bias run's {_C['collapse']['bias']} % (seed 0; "
        f"seeds 0-2: {_seeds('collapse', 'none')} unbalanced, {_seeds('collapse', 'aux')} with the aux loss).",
        tab=train_tab.TITLE,
        values={"steps": _C["collapse"]["step"]},
    ),
    "Lecture demo: top-1 collapses fast": Preset(
        f"One expert per token, press Start ({_C['top1']['step']} steps): the unbalanced run's busiest expert "
        f"takes {_C['top1']['none']} % of the tokens, the aux-loss run's {_C['top1']['aux']} % (1/E = 12.5 %; "
        f"seed 0; seeds 0-2: {_seeds('top1', 'none')} and {_seeds('top1', 'aux')}).",
        tab=train_tab.TITLE,
        values={"top_k": 1, "steps": _C["top1"]["step"]},
    ),
    "Lecture demo: capacity drops tokens": Preset(
        f"Each expert takes at most its fair share per batch (capacity factor 1.0), press Start "
        f"({_C['capacity']['step']} steps): the unbalanced run then drops {_C['capacity']['none']} % of its "
        f"assignments, the aux-loss run {_C['capacity']['aux']} % and the bias run {_C['capacity']['bias']} %: "
        f"even balanced loads overflow a tight capacity (seed 0; seeds 0-2: {_seeds('capacity', 'none')}, "
        f"{_seeds('capacity', 'aux')} and {_seeds('capacity', 'bias')}).",
        tab=train_tab.TITLE,
        values={"use_capacity": True, "capacity_factor": 1.0, "steps": _C["capacity"]["step"]},
    ),
    "Lecture demo: the bias at work": Preset(
        f"DeepSeek-V3's sigmoid router after a {_C['bias']['step']}-step run of the bias balancing (no click: "
        f"trained once per server): max |b| = {_C['bias']['max_b']:.3f} in layer 2, and the bias changes the "
        f"chosen experts of {_C['bias']['changed']} of the {_C['bias']['of']} characters, never their weights "
        f"(seed 0; seeds 0-2: max |b| {_seeds('bias', 'max_b', '')}, {_seeds('bias', 'changed', '')} characters).",
        tab=router_tab.TITLE,
        values={"router": "sigmoid"},
    ),
    "Lecture demo: DeepSeek-V3 active against total": Preset(
        f"DeepSeek-V3 stores {_C['deepseek']['total']}B parameters and uses {_C['deepseek']['active']}B "
        f"({_C['deepseek']['share']} %) per token, counted from its config (37B published).",
        tab=cost_tab.TITLE,
        values={"arch": "DeepSeek-V3"},
    ),
    "Lecture demo: fine-grained and shared experts (DeepSeekMoE)": Preset(
        f"8 experts of width 128, top-2, split in two: 15 routed experts of width 64, top-3, plus 1 shared. The "
        f"same {_C['fine']['stored']:,} expert weights per layer stored and {_C['fine']['active']:,} used per "
        f"token, but {_C['fine']['combinations']} expert sets a token can take instead of "
        f"{_C['fine']['coarse_combinations']}.",
        tab=cost_tab.TITLE,
        values={"n_experts": 15, "top_k": 3, "n_shared": 1, "d_expert": 64},
    ),
}
TABS = [train_tab, routing_tab, router_tab, cost_tab]


EXPERT_WIDTHS = [16, 32, 64, 128, 256]


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
        page.widget(
            st.select_slider,
            "d_expert",
            "Expert width",
            options=EXPERT_WIDTHS,
            default=128,
            help="Hidden width of every expert's SwiGLU MLP, routed and shared. Switch and Mixtral: full-size "
            "experts; DeepSeekMoE: more, narrower experts and a larger k for the same weights.",
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
