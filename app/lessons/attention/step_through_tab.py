"""One head step by step tab: one head of the Real model tab's model worked out number by number with
its own q, k, v (RoPE applied as the model does): scores, scaling, mask, softmax, output. Toggles show
what the causal mask, the 1/sqrt(d) scaling and the temperature each do.
"""

import pandas as pd
import streamlit as st

from app.lessons.attention import step_through
from app.lessons.attention.labels import readable, token_label
from app.page import LessonPage

TITLE = "One head step by step"
STEP_TOKENS = 16  # longest sentence in the step-through (the numbers must stay readable)


@st.cache_data(max_entries=4, show_spinner=False)
def entropy_frame(n_keys: int) -> pd.DataFrame:
    return step_through.entropy_against_dim([2, 4, 8, 16, 32, 64, 128, 256, 512, 1024], n_keys)


def render(page: LessonPage) -> None:
    """Controls, then the stored step-through (kept when the model or the sentence fails)."""
    st.markdown(
        "One head of the model chosen on the *Real model* tab, worked out with its own weights: "
        "the layer's input (after its layer norm) times the head's q, k, v projections, RoPE applied "
        "as the model does, then every step of attention. Change the toggles to see what each "
        "ingredient does."
    )
    s1, s2, s3 = st.columns([3, 2, 2])
    page.widget(
        s1.text_input, "step_text", f"A short sentence (up to {STEP_TOKENS} tokens)", default="The cat sat on the mat"
    )
    page.widget(
        s1.number_input, "step_row", "Query token worked out below (−1 = last)", -1, STEP_TOKENS - 1, default=-1
    )
    page.widget(s2.toggle, "mask", "Causal mask", default=True)
    page.widget(s2.toggle, "scale", "Scale the scores by 1/√d", default=True)
    page.widget(s3.slider, "temperature", "Temperature (divides the scores)", 0.1, 5.0, step=0.1, default=1.0)
    loaded = page.result("model")  # loaded by the Real model tab
    if loaded is not None:
        page.compute("head-steps", "Stepping through the head", store_head, page, *loaded)
    step = page.result("head-steps")
    if step is not None:
        show_steps(page, step)


def store_head(page: LessonPage, model, tokenizer) -> dict:
    """The chosen head's q, k, v on the sentence (recomputed when they change)."""
    step_text = page.value("step_text", "")
    if not step_text.strip():
        raise ValueError("Type a short sentence to step through.")
    ids = list(tokenizer(step_text)["input_ids"])
    if len(ids) > STEP_TOKENS:
        st.warning(
            f"The sentence has {len(ids)} tokens; the step-through uses the first "
            f"{STEP_TOKENS} so that the numbers stay readable."
        )
        ids = ids[:STEP_TOKENS]
    n_layers = getattr(model.config, "num_hidden_layers", 1)
    n_heads = getattr(model.config, "num_attention_heads", 1)
    s_layer, s_head = int(page.value("real_model.layer", 0)), int(page.value("real_model.head", 0))
    if s_layer >= n_layers or s_head >= n_heads:  # the Real model tab says why
        last_layer, last_head = page.result("head", (0, 0))
        s_layer, s_head = min(last_layer, n_layers - 1), min(last_head, n_heads - 1)
    key = (page.result("model-name"), page.device, tuple(ids), s_layer, s_head)
    stored = page.result("head-steps")
    if stored is not None and stored["key"] == key:
        return stored
    qkv = step_through.real_head_qkv(model, ids, s_layer, s_head)
    return {"key": key, "tokens": readable(tokenizer, ids), "qkv": qkv}


def show_steps(page: LessonPage, step: dict) -> None:
    row_in = int(page.value("step_row", -1))
    use_mask, use_scale = bool(page.value("mask")), bool(page.value("scale"))
    temperature = float(page.value("temperature", 1.0))
    qkv, step_tokens = step["qkv"], step["tokens"]
    _, _, _, s_layer, s_head = step["key"]
    steps = step_through.run_steps(qkv, use_mask, use_scale, temperature)
    d = qkv["q"].shape[-1]
    factor = (qkv["scale"] if use_scale else 1.0) / temperature
    st.markdown(
        f"**{step['key'][0]}, layer {s_layer}, head {s_head}**: d = {d}, "
        f"{len(step_tokens)} tokens"
        + (", RoPE already applied to Q and K" if qkv["rope"] else "")
        + f". The model itself uses {'a causal mask' if qkv['model_causal'] else 'no mask'}, "
        f"scale 1/√{d} = {qkv['scale']:.4f} and temperature 1."
    )
    page.chart(
        step_through.qkv_figure(
            qkv["q"].numpy(),
            qkv["k"].numpy(),
            qkv["v"].numpy(),
            steps["output"].numpy(),
            step_tokens,
        ),
        None,
        "attention-step-qkv",
    )
    page.chart(
        step_through.matrix_figure(step_through.step_panels(steps, factor), step_tokens),
        None,
        "attention-step-matrices",
    )
    n_step = len(step_tokens)
    row = n_step - 1 if row_in < 0 or row_in >= n_step else int(row_in)
    if row_in >= n_step:
        st.caption(f"The sentence has tokens 0–{n_step - 1}; showing the last one.")
    r_left, r_right = st.columns([3, 2])
    with r_left:
        st.markdown(f"**Worked row: query {row} ({token_label(step_tokens[row])})**")
        page.table(step_through.worked_row(steps, step_tokens, row), hide_index=True, width="stretch")
    with r_right:
        st.metric(
            "Mean entropy of the rows",
            f"{step_through.row_entropy(steps['weights']):.3f} nats",
            help="0 = every query looks at one key only",
        )
        same = use_mask == qkv["model_causal"] and use_scale and abs(temperature - 1.0) < 1e-9
        if same:
            difference = float((steps["weights"] - qkv["model_weights"]).abs().max())
            st.metric(
                "Largest difference from the model's own weights",
                f"{difference:.1e}",
                help="These settings are the model's: the step-through reproduces it.",
            )
        else:
            st.caption(
                "These settings differ from the model's own, so its weights differ too. "
                "Without the causal mask later tokens leak in; without the scaling or with a "
                "low temperature the rows harden towards a single key."
            )
    st.markdown(
        "**Why divide by √d?** For random q, k with unit-variance entries, q·k has variance d, "
        "so without the scaling the scores grow with the head dimension, the softmax saturates "
        "onto one key and the entropy collapses (and its gradients vanish). Computed here on "
        "random vectors, 32 keys; the dashed line is this head's d."
    )
    frame = entropy_frame(32)
    page.chart(step_through.entropy_dim_figure(frame, 32, d), frame, "attention-entropy-vs-d")
