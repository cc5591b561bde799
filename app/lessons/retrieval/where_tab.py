"""Tab "Where to put retrieval": input (RAG), middle (RETRO) and output (kNN-LM), drawn, with what each costs per
token for SmolLM2's shapes."""

from __future__ import annotations

from types import SimpleNamespace

import pandas as pd
import streamlit as st

from app.lessons.retrieval import figures
from app.page import LessonPage
from models.registry import SMOLLM2_ARCHITECTURE
from models.retrieval.placement import PlacementConfig, costs_per_token, lm_shapes

TITLE = "Where to put retrieval"


def cost_rows(shapes: dict, config: PlacementConfig) -> list[dict]:
    return costs_per_token(shapes, config)


def render(page: LessonPage) -> None:
    st.markdown(
        "A datastore can enter at the **input** (RAG: passages in the prompt; every generated token attends over "
        "them), in the **middle** (RETRO: chunked cross-attention to neighbours of each 64-token chunk, in a few "
        "layers; the model must be trained for it) or at the **output** (kNN-LM: one nearest-neighbour search per "
        "token; no training, and every token attributed to its neighbours). The counts below are multiply-adds from "
        "SmolLM2's shapes (Kaplan et al.'s 2·P per token, plus attention), not timings."
    )
    page.chart(figures.placement_diagram(), None, "diagram")
    with page.settings_area():
        a, b, c = st.columns(3)
        page.widget(a.slider, "k", "k: passages / neighbours", 1, 20, default=3)
        page.widget(b.select_slider, "passage_tokens", "Tokens per passage", [32, 64, 100, 128, 256, 512], default=100)
        page.widget(
            c.select_slider,
            "datastore_tokens",
            "kNN-LM datastore (tokens)",
            [10_000, 100_000, 1_000_000, 10_000_000, 103_000_000],
            default=100_000,
            format_func=lambda n: f"{n:,}",
            help="103M: WikiText-103, the paper's datastore.",
        )
    config = page.config(PlacementConfig, "The cost settings")
    if config is None:
        return
    rows = cost_rows(lm_shapes(SimpleNamespace(**SMOLLM2_ARCHITECTURE)), config)  # the shapes, no weights
    base = rows[0]["per_token"]
    cols = st.columns(3)
    for col, row in zip(cols, rows[1:]):
        col.metric(f"{row['place']}: per token", f"{row['per_token'] / base:.2f}× the LM alone")
    page.chart(*figures.cost_bars(rows), name="costs")
    frame = pd.DataFrame(rows)
    frame["per token (× LM alone)"] = frame["per_token"] / base
    page.table(
        frame.style.format(
            {"per_token": "{:.3g}", "prefill": "{:.3g}", "memory": "{:.3g}", "per token (× LM alone)": "{:.2f}"}
        ),
        hide_index=True,
        width="stretch",
    )
