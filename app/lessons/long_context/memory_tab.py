"""Tab "Segments and memory": Transformer-XL's reach (layers × segment) against isolated segments, and Linformer's
low-rank keys against full attention."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
import streamlit as st
import torch

from app.lessons.long_context import figures
from app.page import LessonPage
from models.long_context.patterns import attention_pattern, linformer_attention, linformer_projections, sdpa_attention

TITLE = "Segments and memory"
RANKS = (8, 16, 32, 64, 128, 256)


def xl_figure(length: int, segment: int, layers: int):
    if not 1 <= segment <= length // 2:
        raise ValueError(f"Pick a segment of at most half the {length} tokens, so there are two segments to link.")
    return figures.xl_reach(length, segment, layers)


def linformer_errors(length: int, head_dim: int) -> tuple[go.Figure, pd.DataFrame]:
    """Relative error of Linformer against full (bidirectional) attention, by projected length k."""
    generator = torch.Generator().manual_seed(0)
    q, k, v = torch.randn(3, 1, 1, length, head_dim, generator=generator).unbind(0)
    full = sdpa_attention(q, k, v, attention_pattern("full", length))
    rows = []
    for rank in [r for r in RANKS if r <= length]:
        E, F_ = linformer_projections(rank, length, seed=0)
        low = linformer_attention(q, k, v, E, F_)
        rows.append({"k": rank, "relative error": float((low - full).norm() / full.norm()),
                     "scores kept": length * rank, "full scores": length * length})  # fmt: skip
    frame = pd.DataFrame(rows)
    fig = go.Figure(go.Scatter(x=frame["k"], y=frame["relative error"], mode="lines+markers", name="Linformer"))
    fig.update_layout(title=f"Linformer against full attention, {length} tokens (random q, k, v)",
                      xaxis_title="projected length k", xaxis_type="log", yaxis_title="‖Linformer − full‖ / ‖full‖",
                      height=320)  # fmt: skip
    return fig, frame


def render(page: LessonPage) -> None:
    config = page.data
    with page.settings_area():
        cols = st.columns(3)
        page.widget(cols[0].number_input, "length", "Tokens", 16, 1024, default=256, step=32)
        page.widget(cols[1].number_input, "segment", "Segment length S", 1, None, default=32, step=8)
        page.widget(cols[2].number_input, "layers", "Layers", 1, 16, default=4)
    length, segment, layers = (int(page.value(n, d)) for n, d in (("length", 256), ("segment", 32), ("layers", 4)))
    made = page.compute("xl", "Transformer-XL's reach", page.shared_figure, xl_figure, length, segment, layers)
    if made is not None:
        fig, frame = made
        last = frame[frame["layers"] == layers].set_index("memory")["reach back"]
        cols = st.columns(3)
        cols[0].metric(f"Reach with memory, {layers} layers", int(last[True]))
        cols[1].metric("Reach, segments alone", int(last[False]))
        cols[2].metric("layers × segment", layers * segment)
        page.chart(fig, frame, "xl-reach")
        st.caption(
            "Each layer of Transformer-XL attends to its own segment and to the previous segment's hidden states "
            "of the layer below, cached without gradient: information moves one segment back per layer. Truncated "
            "BPTT in an RNN (see the recurrent-networks lesson) is the same trade: the state (here the memory) carries "
            "forward, the gradient stops at the segment. Read alone, a segment's first token sees nothing before it."
        )
    st.subheader("Linformer: project the keys and values to k rows")
    lin = page.compute("linformer", "Linformer", page.shared_figure, linformer_errors, length, config.head_dim)
    if lin is not None:
        page.chart(*lin, "linformer")
        st.caption(
            "softmax(Q(EK)ᵀ/√d)(FV) with random Gaussian E, F (k × T): T·k scores instead of T². The paper's "
            "argument is that trained attention maps are close to low rank; on random inputs, as here, the error "
            "falls only as k nears T."
        )
