"""Long context (Lecture 13): one module per tab; `controls` builds the model settings every tab shares."""

from __future__ import annotations

import streamlit as st

from app.lessons.long_context import (
    extrapolation_tab,
    memory_tab,
    middle_tab,
    needle_tab,
    patterns_tab,
    rope_tab,
    smollm2_tab,
)
from app.page import LessonPage, Preset
from models.long_context import PositionConfig

INTRO = (
    "A model trained on inputs of one length meets longer ones. Two things break. **Positions**: a learned table "
    "ends, sinusoidal and RoPE angles go where training never went, ALiBi's distance penalty just continues; RoPE "
    "can be **rescaled** (position interpolation, NTK-aware, YaRN) without retraining. **Cost**: attention is "
    "quadratic, so long-context models keep a few keys per query (windows, strides, global tokens), carry a "
    "memory across segments (Transformer-XL) or compress the keys (Linformer), and pay in reach. Below, tiny "
    "character-level transformers train live at a short length on the Lee news corpus and are read at up to 8× "
    "that length; SmolLM2 is read with each RoPE scaling and asked for a fact at each depth of a long text (its "
    "own tabs: the settings above are the tiny models'). Every number is measured on this page. The cache that "
    "makes long generation affordable has its "
    "own lesson: [KV cache and eviction](/kv_cache)."
)

PRESETS = {  # full state: settings not named go back to their defaults; each opens the tab that shows it
    "Lecture demo: YaRN stretches a trained RoPE": Preset(
        "Press Start (200 steps): read at 4× the training length, the RoPE model's loss past the training length "
        "is over 0.1 nats lower with YaRN than with no scaling; position interpolation (linear) costs over 0.05 "
        "nats within the training length, where YaRN costs under 0.1. (Page seed 0; seeds 1–3 hold too.)",
        tab=rope_tab.TITLE,
        values={"steps": 200},
    ),
    "Lecture demo: PI blurs SmolLM2 inside its context": Preset(
        "512 tokens of a Wikipedia article, s = 4, L = 8,192 (SmolLM2's configured and last trained length): "
        "linear interpolation (PI) raises SmolLM2's mean loss by over 1.5 nats per token, YaRN by under 0.2, and "
        "dynamic NTK not at all (it acts only past L). Computed at once, the same on every run.",
        tab=smollm2_tab.TITLE,
        values={"length": 512, "factor": 4.0, "trained_len": 8192},
    ),
    "Lecture demo: ALiBi stays flat, RoPE climbs": Preset(
        "Press Start (200 steps): at 8× the training length RoPE's held-out loss is over 0.2 nats above its loss "
        "at the training length; ALiBi's is not higher than its own (within 0.02). (Seeds 0–3 checked.)",
        tab=extrapolation_tab.TITLE,
        values={"steps": 200},
    ),
    "Lecture demo: RoPE loses a needle far back": Preset(
        "Press Start (200 steps): at the training length the RoPE model finds every needle; at 8× it finds under "
        "80 % of those at the start of the haystack, yet all of those just before the question. (Seeds 0–3: 11 "
        "to 73 % at the start.)",
        tab=needle_tab.TITLE,
        values={"steps": 200},
    ),
    "Lecture demo: global tokens shortcut a window": Preset(
        "256 tokens, window 16: the last token needs 17 layers to see token 0 through the sliding window, "
        "2 through the strided pattern and 1 with a global token (Longformer), at about 6 % of full attention's "
        "scores.",
        tab=patterns_tab.TITLE,
    ),
    "Lecture demo: memory multiplies the reach": Preset(
        "Segments of 32 tokens, 4 layers: a segment's first token reaches 128 tokens back through Transformer-XL's "
        "memory (layers × segment), and 0 when each segment is read alone.",
        tab=memory_tab.TITLE,
    ),
}
# each module: TITLE and render(page)
TABS = [rope_tab, extrapolation_tab, smollm2_tab, needle_tab, middle_tab, patterns_tab, memory_tab]


def controls(page: LessonPage) -> PositionConfig | None:
    """The tiny model's settings, shared by the tabs that train; None (a bad value, its message shown) stops. On a
    tab that reads SmolLM2 they do nothing, and are folded away under a label that says so."""
    on_smollm2 = page.open_tab() in (smollm2_tab.TITLE, middle_tab.TITLE)
    with st.expander("The tiny models' settings (this tab reads SmolLM2)") if on_smollm2 else st.container():
        return _tiny_model_settings(page)


def _tiny_model_settings(page: LessonPage) -> PositionConfig | None:
    cols = st.columns(5)
    page.widget(cols[0].number_input, "train_len", "Training length L (characters)", 8, 512, default=32, step=8,
                help="Every model trains on windows of this many characters, then is read at longer ones.")  # fmt: skip
    page.widget(cols[1].number_input, "d_model", "Width d_model", 8, 256, default=32, step=8)
    page.widget(cols[2].number_input, "n_heads", "Heads", 1, 16, default=2)
    page.widget(cols[3].number_input, "lr", "Learning rate (AdamW)", 0.0, 0.1, default=0.01, step=0.001,
                format="%.4f")  # fmt: skip
    page.widget(cols[4].number_input, "rope_base", "RoPE base", 2.0, 1e7, default=10000.0, step=1000.0,
                help="θᵢ = base^(−2i/d): a larger base turns the slow pairs more slowly.")  # fmt: skip
    return page.config(PositionConfig, "The model settings")
