"""Attention (Lecture 5): every head of a real model, one head step by step, positional encodings, and a
tiny transformer trained live.

Each tab lives in app/attention_lesson/ (one module per tab, with the pure helpers beside them).
"""

import streamlit as st

from app.attention_lesson import P, positional_tab, real_model_tab, step_through_tab, training_tab
from app.attention_lesson.real_model_tab import DEFAULT_TEXT, SINK_TEXT
from app.lecture import presets_bar
from app.navigation import require_entry_script
from app.sidebar import current_device

require_entry_script()


def real_preset(source: str, layer: int, head: int, text: str | None = None) -> dict:
    values = {f"{P}model": "smollm2", f"{P}source": source, f"{P}layer": layer, f"{P}head": head}
    return values | ({f"{P}text": text} if text else {f"{P}query": -1})


def train_preset(task: str, positional: str, causal: bool, steps: int) -> dict:
    return {f"{P}task": task, f"{P}pos": positional, f"{P}causal": causal, f"{P}steps": steps}


REAL_PRESETS = {
    "Lecture demo: previous-token head": real_preset("text", 1, 2, DEFAULT_TEXT),
    "Lecture demo: attention sink": real_preset("text", 20, 3, SINK_TEXT),
    "Lecture demo: induction head": real_preset("random", 18, 6),
}
TRAIN_PRESETS = {
    "Lecture demo: reverse without positions": train_preset("reverse", "none", False, 400),
    "Lecture demo: reverse with sinusoidal": train_preset("reverse", "sinusoidal", False, 400),
    "Lecture demo: LM that reads the future": train_preset("char_lm", "sinusoidal", False, 300),
    "Lecture demo: honest LM": train_preset("char_lm", "sinusoidal", True, 300),
}

st.title("🎯 Attention")
st.markdown(
    "Each token asks a **query**, every token offers a **key** and a **value**: "
    "weights = softmax(Q·Kᵀ/√d), output = weights·V. Every row of weights is a probability "
    "distribution over the tokens a position may look at. Below: all heads of a real model, one "
    "head worked out number by number, how transformers know where a token sits, and a tiny "
    "transformer learning to attend."
)
device = current_device()
tab_real, tab_step, tab_pos, tab_train = st.tabs(
    ["Real model", "One head step by step", "Positional encodings", "Train a tiny transformer"]
)

with tab_real:
    presets_bar(P, REAL_PRESETS)
    real_settings = real_model_tab.controls()  # the model and head are shared with the next tab
    model, tokenizer = real_model_tab.load_and_trace(real_settings, device)
    real_model_tab.render(real_settings)

with tab_step:
    step_through_tab.render(real_settings, model, tokenizer, device)

with tab_pos:
    positional_tab.render()

with tab_train:
    presets_bar(P, TRAIN_PRESETS)
    training_tab.render(device)
