"""Tab "RoPE scaling on SmolLM2": a real model's loss by position on Wikipedia under no scaling, PI, dynamic NTK and
YaRN, computed once per server for each setting."""

from __future__ import annotations

import numpy as np
import streamlit as st

from app.lessons.long_context import figures
from app.page import LessonPage
from app.resources import load_shared_model
from models.corpora import wiki_articles
from models.long_context.smollm2_scaling import (
    MAX_TOKENS,
    SmolScalingConfig,
    rope_settings,
    scaled_curves,
    sdpa_twin,
    text_windows,
)

TITLE = "RoPE scaling on SmolLM2"
TRAINED_LENGTHS = [2048, 8192]  # the pretraining stage's length, and the long-context stage's (the config's)


def curves(config: SmolScalingConfig, device: str, _model, _tokenizer) -> dict[str, np.ndarray]:
    """Loss by position under each scaling (computed once per server for these settings: `page.shared`)."""
    ids = text_windows(_tokenizer, wiki_articles(), config.length, config.windows).to(device)
    return scaled_curves(sdpa_twin(_model), ids, config)


def rope_facts(model) -> dict:
    head_dim, base = rope_settings(model)  # a model without RoPE: its message
    return {"head_dim": head_dim, "base": base, "max_position_embeddings": model.config.max_position_embeddings}


def render(page: LessonPage) -> None:
    with page.settings_area():
        cols = st.columns(4)
        page.widget(cols[0].slider, "length", "Tokens read", 256, MAX_TOKENS, default=512, step=256,
                    help="The start of a Wikipedia article; each scaling reads it once: about 1 s at 512 tokens, 5 s at "
                    "2,048 and 11 s at 4,096 on 2 idle CPU cores.")  # fmt: skip
        page.widget(cols[1].number_input, "factor", "Scaling factor s (PI, YaRN)", 0.0, 64.0, default=4.0, step=1.0,
                    help="PI divides every θᵢ by s; YaRN only the pairs that turn less than once within L.")  # fmt: skip
        page.widget(cols[2].selectbox, "trained_len", "L: the length the scalings take as trained", TRAINED_LENGTHS,
                    default=8192, format_func=lambda n: f"{n:,}",
                    help="original_max_position_embeddings in transformers' configs. 8,192: SmolLM2's config and "
                    "its last (long-context) training stage; 2,048: its pretraining length.")  # fmt: skip
        page.widget(cols[3].number_input, "windows", "Articles averaged", 1, 8, default=1,
                    help="Each article is one more read per scaling.")  # fmt: skip
    bucket = max(16, int(page.value("length", 512)) // 16)  # about 16 points per curve
    config = page.config(SmolScalingConfig, "The SmolLM2 scaling settings", bucket=bucket)
    if config is None:
        return
    loaded = page.compute("smollm2-model", "Loading SmolLM2", load_shared_model, "smollm2", page.device)
    if loaded is None:
        return
    model, tokenizer = loaded
    facts = page.compute("smollm2-rope", "Reading SmolLM2's RoPE", rope_facts, model)
    if facts is None:
        return
    st.caption(
        f"SmolLM2-135M-Instruct (the bundled Q4_1 GGUF, dequantised: not the full-precision weights). Its config: "
        f"**max_position_embeddings = {facts['max_position_embeddings']:,}**, RoPE base θ = {facts['base']:,.0f}, "
        f"head dimension {facts['head_dim']}, no rope scaling. What it trained at: the SmolLM2 paper (Allal et al. "
        "2025, arXiv 2502.02737) pretrains on sequences of **2,048** tokens and then extends the context to 8k; "
        "this checkpoint's name in its GGUF metadata, “Smollm2 135M 8k Lc100K Mix1 Ep2”, says its last stage ran "
        "at **8k** tokens with θ = 100k. So the configured maximum is the length of its last training stage, and "
        f"every length this CPU can afford (up to {MAX_TOKENS:,}) lies inside it."
    )
    with st.spinner(f"Reading {config.length:,} tokens with each scaling (once per server for these settings)…"):
        found = page.compute("smollm2-scaling", "Reading SmolLM2 with each scaling", page.shared, curves, config,
                             page.device, _model=model, _tokenizer=tokenizer)  # fmt: skip
    if found is None:
        return
    none = float(found["none (extrapolate)"].mean())
    cols = st.columns(len(found))
    for col, (name, losses) in zip(cols, found.items()):
        mean = float(losses.mean())
        delta = None if name == "none (extrapolate)" else f"{mean - none:+.3f}"
        col.metric(f"{name}: mean loss", f"{mean:.3f}", delta=delta, delta_color="inverse",
                   help=f"nats per token over {config.length:,} tokens; perplexity {np.exp(mean):.1f}")  # fmt: skip
    page.chart(*figures.smollm2_scaling(found, config.bucket, config.trained_len), "smollm2-scaling")
    same = [n for n, c in found.items() if n != "none (extrapolate)" and np.array_equal(c, found["none (extrapolate)"])]
    st.caption(
        f"s = {config.factor:g}, L = {config.trained_len:,}, {config.windows} article(s) of {config.length:,} tokens, "
        "no fine-tuning after the scaling. Inside the length a model trained at, a scaling can only cost: PI "
        f"squeezes {config.factor:g} neighbouring positions into one step of angle (the fast pairs blur), YaRN "
        "stretches only the slow pairs and sharpens attention by its temperature, dynamic NTK changes nothing until "
        "the input passes L. "
        + (
            f"Here {', '.join(same)} gave exactly the no-scaling curve (dotted): the input is not longer than L. "
            if same
            else ""
        )  # fmt: skip
        + "Past the trained length, where the tiny model on the first tab shows no scaling climbing, SmolLM2 would "
        "need more than 8,192 tokens: beyond this CPU. The page runs SmolLM2's own layers with our cos/sin "
        "(tests/models/test_long_context.py: equal to transformers' model with the same rope_parameters)."
    )
