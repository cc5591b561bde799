"""Plotly figures for the retrieval lesson, one per chart, each with the table it draws. No Streamlit here."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import plotly.graph_objects as go

COLOURS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b"]


def _finite(values) -> list:
    return [float(v) if math.isfinite(v) else None for v in values]


def lambda_curves(grid: np.ndarray, ks: list[int], lambdas, lm_perplexity: float, lam: float, k: int, title: str):
    """Held-out perplexity against λ, one line per k, the LM alone as a dashed line, the chosen (λ, k) marked."""
    fig = go.Figure()
    rows = []
    for row, kk in enumerate(ks):
        fig.add_trace(
            go.Scatter(
                x=list(lambdas),
                y=_finite(grid[row]),
                mode="lines+markers",
                name=f"k = {kk}",
                line=dict(color=COLOURS[row % len(COLOURS)]),
                hovertemplate=f"k = {kk}, λ = %{{x}}: perplexity %{{y:.2f}}<extra></extra>",
            )
        )
        rows += [{"k": kk, "lambda": float(lam_), "perplexity": float(p)} for lam_, p in zip(lambdas, grid[row])]
    fig.add_hline(y=lm_perplexity, line_dash="dash", line_color="black", annotation_text="SmolLM2 alone")
    finite = grid[np.isfinite(grid)]
    top = min(float(finite.max()), 3 * lm_perplexity) if finite.size else 2 * lm_perplexity
    fig.update_layout(
        title=title,
        xaxis_title="λ (weight of the kNN distribution)",
        yaxis_title="held-out perplexity",
        yaxis_range=[0.8 * min(float(finite.min()), lm_perplexity), 1.05 * top],
        legend_title="neighbours",
        height=420,
    )
    if k in ks and 0 <= lam <= 1:
        fig.add_vline(x=lam, line_dash="dot", line_color="grey")
    return fig, pd.DataFrame(rows)


def size_curve(rows: list[dict], lm_perplexity: float, title: str):
    """Perplexity against the datastore's size (tokens, and MB of keys in the hover)."""
    frame = pd.DataFrame(rows)
    fig = go.Figure(
        go.Scatter(
            x=frame["tokens"],
            y=_finite(frame["perplexity"]),
            customdata=frame["MB"],
            mode="lines+markers",
            name="kNN-LM",
            hovertemplate="%{x:,} tokens (%{customdata:.1f} MB of keys): perplexity %{y:.2f}<extra></extra>",
        )
    )
    fig.add_hline(y=lm_perplexity, line_dash="dash", line_color="black", annotation_text="SmolLM2 alone")
    fig.update_layout(
        title=title, xaxis_title="datastore size (tokens, log scale)", yaxis_title="held-out perplexity", height=360
    )
    fig.update_xaxes(type="log")
    return fig, frame


def token_gains(tokens: list[str], gains: np.ndarray, chosen: int):
    """log p(token) under kNN-LM minus under the LM alone, per held-out token; the chosen one outlined."""
    frame = pd.DataFrame({"position": np.arange(1, len(gains) + 1), "token": tokens, "gain (nats)": gains})
    colours = ["#2ca02c" if g > 0 else "#d62728" for g in gains]
    widths = [3 if i == chosen else 0 for i in range(len(gains))]
    fig = go.Figure(
        go.Bar(
            x=frame["position"],
            y=_finite(gains),
            text=frame["token"],
            marker=dict(color=colours, line=dict(color="black", width=widths)),
            hovertemplate="#%{x} %{text}: %{y:+.2f} nats<extra></extra>",
            textposition="none",
        )
    )
    fig.update_layout(
        title="What the datastore did to each held-out token: log p(kNN-LM) − log p(LM)",
        xaxis_title="held-out token (position)",
        yaxis_title="gain in log-probability (nats)",
        height=300,
    )
    return fig, frame


def domain_bars(rows: list[dict]):
    """Held-out perplexity of each domain with no datastore and with each domain's datastore."""
    frame = pd.DataFrame(rows)
    fig = go.Figure()
    for i, store in enumerate(frame["datastore"].unique()):
        part = frame[frame["datastore"] == store]
        fig.add_trace(
            go.Bar(
                x=part["held-out text"],
                y=_finite(part["perplexity"]),
                name=store,
                marker_color="#7f7f7f" if i == 0 else COLOURS[i % len(COLOURS)],
                text=[f"{p:.1f}" for p in part["perplexity"]],
                textposition="outside",
            )
        )
    fig.update_layout(
        title="Swap the datastore, not the weights: perplexity of each domain's held-out text",
        barmode="group",
        xaxis_title="held-out text",
        yaxis_title="perplexity",
        legend_title="datastore",
        height=400,
    )
    return fig, frame


def recall_curves(rows: list[dict]):
    """Share of the lesson's questions whose gold passage is in the top k, per retriever."""
    frame = pd.DataFrame(rows)
    fig = go.Figure()
    for i, (name, part) in enumerate(frame.groupby("retriever", sort=False)):
        fig.add_trace(go.Scatter(x=part["k"], y=part["recall"], mode="lines+markers", name=name, line_color=COLOURS[i]))
    fig.update_layout(
        title="Recall@k on the lesson's questions: is the gold passage among the top k?",
        xaxis_title="k (passages retrieved)",
        yaxis_title="recall@k",
        yaxis_range=[0, 1.05],
        height=360,
    )
    return fig, frame


def score_scatter(bm25: np.ndarray, dense: np.ndarray, titles: list[str], top_bm25, top_dense, gold, question: str):
    """Every passage by its BM25 score and its cosine: where the two retrievers agree and disagree."""
    n = len(bm25)
    group = np.full(n, "neither top k", dtype=object)
    in_bm25, in_dense = np.zeros(n, bool), np.zeros(n, bool)
    in_bm25[list(top_bm25)] = True
    in_dense[list(top_dense)] = True
    group[in_bm25 & ~in_dense] = "BM25's top k only"
    group[~in_bm25 & in_dense] = "dense top k only"
    group[in_bm25 & in_dense] = "both top k"
    frame = pd.DataFrame({"passage": np.arange(n), "title": titles, "BM25": bm25, "cosine": dense, "group": group})
    fig = go.Figure()
    styles = {
        "neither top k": ("#c7c7c7", 6),
        "BM25's top k only": (COLOURS[0], 11),
        "dense top k only": (COLOURS[1], 11),
        "both top k": (COLOURS[2], 13),
    }
    for name, (colour, size) in styles.items():
        part = frame[frame["group"] == name]
        fig.add_trace(
            go.Scatter(
                x=part["BM25"],
                y=part["cosine"],
                mode="markers",
                name=name,
                text=part["title"],
                marker=dict(color=colour, size=size),
                hovertemplate="%{text}: BM25 %{x:.2f}, cosine %{y:.3f}<extra></extra>",
            )
        )
    if gold is not None:
        fig.add_trace(
            go.Scatter(
                x=[bm25[gold]],
                y=[dense[gold]],
                mode="markers",
                name="gold passage",
                marker=dict(symbol="star", size=20, color="gold", line=dict(color="black", width=1)),
                hoverinfo="skip",
            )
        )
    fig.update_layout(
        title=f"Every passage for “{question[:70]}”", xaxis_title="BM25 score", yaxis_title="MiniLM cosine", height=420
    )
    return fig, frame


def condition_bars(rows: list[dict], answer: str):
    """log p(gold answer) under each context, the greedy answer written on its bar."""
    frame = pd.DataFrame(rows)
    colours = ["#2ca02c" if ok else "#d62728" for ok in frame["correct"]]
    fig = go.Figure(
        go.Bar(
            x=frame["context"],
            y=frame["log p(answer)"],
            marker_color=colours,
            text=[f"“{a[:28]}”" for a in frame["greedy answer"]],
            textposition="outside",
            hovertemplate="%{x}: log p = %{y:.2f}<extra></extra>",
        )
    )
    fig.update_layout(
        title=f"log p(“{answer}” | context, question); bars: green = the greedy answer contains it",
        xaxis_title="context in the prompt",
        yaxis_title="log-probability of the gold answer (nats)",
        height=420,
    )
    return fig, frame


def accuracy_bars(rows: list[dict]):
    """Exact match and mean log p(answer) against the number of passages retrieved."""
    frame = pd.DataFrame(rows)
    fig = go.Figure()
    for i, (name, part) in enumerate(frame.groupby("retriever", sort=False)):
        fig.add_trace(
            go.Bar(
                x=part["k"].astype(str),
                y=part["accuracy"],
                name=name,
                marker_color=COLOURS[i],
                text=[f"{a:.0%} ({n} q)" for a, n in zip(part["accuracy"], part["questions"])],
                textposition="outside",
            )
        )
    fig.update_layout(
        title="SmolLM2's exact match against k (0 = no passage)",
        barmode="group",
        xaxis_title="passages in the prompt (k)",
        yaxis_title="greedy answer contains the gold answer",
        yaxis_range=[0, 1.1],
        height=380,
    )
    return fig, frame


def placement_diagram():
    """The LM as a stack, with where retrieval enters: input (RAG), middle (RETRO), output (kNN-LM)."""
    fig = go.Figure()
    boxes = [  # (x0, y0, x1, y1, text, colour)
        (3, 0, 7, 1, "tokens → embeddings", "#e8e8e8"),
        (3, 1.4, 7, 2.4, "layers 1 … n/2", "#dbe9f6"),
        (3, 2.8, 7, 3.8, "layers n/2 … n<br>(RETRO: + chunked cross-attention)", "#dbe9f6"),
        (3, 4.2, 7, 5.2, "softmax: p_LM(next token)", "#e8e8e8"),
        (3, 5.6, 7, 6.4, "p = λ·p_kNN + (1 − λ)·p_LM", "#d9f2d9"),
        (-1.5, 0, 1.5, 1, "RAG: passages<br>prepended to the prompt", COLOURS[0]),
        (-1.5, 2.8, 1.5, 3.8, "RETRO: neighbours of<br>each 64-token chunk", COLOURS[1]),
        (8.5, 4.8, 11.5, 6.2, "kNN-LM: datastore<br>(context vector → next token)", COLOURS[2]),
    ]
    for x0, y0, x1, y1, text, colour in boxes:
        side = x1 <= 2 or x0 >= 8
        fig.add_shape(type="rect", x0=x0, y0=y0, x1=x1, y1=y1, fillcolor=colour, opacity=0.35 if side else 1)
        fig.add_annotation(x=(x0 + x1) / 2, y=(y0 + y1) / 2, text=text, showarrow=False)
    for x, y, ax, ay in [(3, 0.5, 1.5, 0.5), (3, 3.3, 1.5, 3.3), (7, 6.0, 8.5, 5.5)]:
        fig.add_annotation(x=x, y=y, ax=ax, ay=ay, xref="x", yref="y", axref="x", ayref="y", arrowhead=3, text="")
    fig.add_annotation(x=10, y=4.2, ax=7, ay=3.3, xref="x", yref="y", axref="x", ayref="y", arrowhead=3, text="")
    fig.add_annotation(x=10, y=4.0, text="query: the last FFN's input", showarrow=False, yanchor="top")
    for y0, y1 in [(1, 1.4), (2.4, 2.8), (3.8, 4.2), (5.2, 5.6)]:
        fig.add_annotation(x=5, y=y1, ax=5, ay=y0, xref="x", yref="y", axref="x", ayref="y", arrowhead=2, text="")
    fig.update_xaxes(visible=False, range=[-2, 12])
    fig.update_yaxes(visible=False, range=[-0.3, 6.7])
    fig.update_layout(title="Where retrieval enters the language model", height=430, showlegend=False)
    return fig


def cost_bars(rows: list[dict]):
    """Multiply-adds per generated token, the prefill, and the floats kept, per placement (log scale)."""
    frame = pd.DataFrame(rows)
    fig = go.Figure()
    for i, (column, label) in enumerate(
        [("per_token", "per generated token"), ("prefill", "prefill (once)"), ("memory", "floats kept")]
    ):
        fig.add_trace(
            go.Bar(
                x=frame["place"],
                y=frame[column],
                name=label,
                marker_color=COLOURS[i],
                text=[f"{v:.2g}" for v in frame[column]],
                textposition="outside",
            )
        )
    fig.update_layout(
        title="What each placement costs (multiply-adds, from SmolLM2's shapes)",
        barmode="group",
        yaxis_type="log",
        yaxis_title="count (log scale)",
        height=420,
    )
    return fig, frame
