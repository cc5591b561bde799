"""Positional encodings tab, pure part: the sinusoidal table and its similarities, RoPE rotations and
long-term decay, ALiBi biases and slopes. No Streamlit calls.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import torch
from plotly.subplots import make_subplots

from models.attention.positional import (
    alibi_bias,
    alibi_slopes,
    apply_rope,
    position_similarity,
    rope_cos_sin,
    rope_score_against_distance,
    similarity_against_distance,
    sinusoidal_positions,
)


def sinusoidal_figure(table: np.ndarray) -> go.Figure:
    fig = go.Figure(
        go.Heatmap(
            z=table,
            colorscale="RdBu_r",
            zmid=0,
            hovertemplate="position %{y}, dim %{x}<br>%{z:.3f}<extra></extra>",
        )
    )
    fig.update_layout(
        title="Sinusoidal table PE[position, dimension]",
        xaxis_title="dimension (sin, cos pairs; slower to the right)",
        yaxis_title="position",
        yaxis=dict(autorange="reversed"),
        height=420,
    )
    return fig


def similarity_figure(similarity: np.ndarray, distances, means) -> go.Figure:
    fig = make_subplots(
        1,
        2,
        subplot_titles=["cosine similarity", "mean by distance"],
        column_widths=[0.45, 0.55],
    )
    fig.add_heatmap(
        z=similarity,
        colorscale="RdBu_r",
        zmid=0,
        showscale=False,
        hovertemplate="positions %{y} and %{x}<br>%{z:.3f}<extra></extra>",
        row=1,
        col=1,
    )
    fig.add_scatter(x=distances, y=means, mode="lines", name="mean cosine", row=1, col=2)
    fig.update_yaxes(autorange="reversed", row=1, col=1)
    fig.update_xaxes(title_text="distance |i − j|", row=1, col=2)
    fig.update_layout(
        title="Sinusoidal vectors: cosine of two positions, and against their distance",
        height=440,
        showlegend=False,
    )
    return fig


def rope_rotation_frame(n_positions: int, head_dim: int, pairs: list[int], base: float):
    """Where RoPE moves a query (1, 0) in the plane of each frequency pair, position by position."""
    cos, sin = rope_cos_sin(n_positions, head_dim, base, dtype=torch.float64)  # (T, D)
    rows = []
    half = head_dim // 2
    for pair in pairs:
        q = torch.zeros(1, 1, n_positions, head_dim, dtype=torch.float64)
        q[..., pair] = 1.0  # the vector (1, 0) in the plane of dimensions (pair, pair + D/2)
        rotated, _ = apply_rope(q, q, cos, sin)
        for position in range(n_positions):
            rows.append(
                {
                    "pair": pair,
                    "position": position,
                    "x": float(rotated[0, 0, position, pair]),
                    "y": float(rotated[0, 0, position, pair + half]),
                    "angle_per_position": base ** (-2 * pair / head_dim),
                }
            )
    return pd.DataFrame(rows)


def rope_rotation_figure(frame: pd.DataFrame) -> go.Figure:
    pairs = list(dict.fromkeys(frame["pair"]))
    titles = [f"pair {p}: {frame[frame.pair == p].angle_per_position.iloc[0]:.3g} rad/step" for p in pairs]
    fig = make_subplots(1, len(pairs), subplot_titles=titles)
    angle = np.linspace(0, 2 * np.pi, 100)
    for i, pair in enumerate(pairs):
        part = frame[frame.pair == pair]
        fig.add_scatter(
            x=np.cos(angle),
            y=np.sin(angle),
            mode="lines",
            line=dict(color="#ddd"),
            hoverinfo="skip",
            row=1,
            col=i + 1,
        )
        fig.add_scatter(
            x=part["x"],
            y=part["y"],
            mode="markers+text",
            text=[str(p) if p < 12 else "" for p in part["position"]],
            textposition="top center",
            marker=dict(color=part["position"], colorscale="Plasma", size=8),
            customdata=part["position"],
            hovertemplate="position %{customdata}<br>(%{x:.2f}, %{y:.2f})<extra></extra>",
            row=1,
            col=i + 1,
        )
        fig.update_xaxes(range=[-1.3, 1.3], row=1, col=i + 1)
        fig.update_yaxes(range=[-1.3, 1.3], scaleanchor=f"x{i + 1 if i else ''}", row=1, col=i + 1)
    fig.update_layout(
        title="RoPE: where (1, 0) of three pairs lands at each position",
        height=400,
        showlegend=False,
    )
    return fig


def rope_decay_figure(distances: np.ndarray, scores: np.ndarray, head_dim: int) -> go.Figure:
    fig = go.Figure(go.Scatter(x=distances, y=scores, mode="lines", name="q·k after RoPE"))
    fig.update_layout(
        title=f"RoPE long-term decay (d = {head_dim})",
        xaxis_title="distance m − n",
        yaxis_title="q·k (q = k = ones)",
        height=380,
    )
    return fig


def alibi_figure(bias: np.ndarray, slopes: np.ndarray) -> go.Figure:
    n_heads = bias.shape[0]
    columns = min(n_heads, 4)
    rows = math.ceil(n_heads / columns)
    fig = make_subplots(
        rows,
        columns,
        subplot_titles=[f"H{h}: {s:.3g}" for h, s in enumerate(slopes)],
        vertical_spacing=0.12,
    )
    for h in range(n_heads):
        fig.add_heatmap(
            z=bias[h],
            colorscale="Blues_r",
            zmin=float(bias.min()),  # one scale for all heads: gentle slopes stay pale
            zmax=0,
            showscale=h == 0,
            hovertemplate="query %{y}, key %{x}<br>bias %{z:.2f}<extra></extra>",
            row=h // columns + 1,
            col=h % columns + 1,
        )
    fig.update_yaxes(autorange="reversed")
    fig.update_layout(title="ALiBi: the bias −slope·|i − j| each head adds", height=260 * rows + 90)
    return fig


def positional_charts(
    n_positions: int, dim: int, base: float, alibi_heads: int, alibi_size: int = 24
) -> dict[str, tuple[go.Figure, pd.DataFrame | None]]:
    """Every chart of the Positional encodings tab: {name: (figure, data to export)}."""
    table = sinusoidal_positions(n_positions, dim, base)  # (T, C)
    distances, means = similarity_against_distance(table)
    similarity = position_similarity(table).numpy()
    pairs = sorted({0, dim // 8, dim // 2 - 1})  # fastest, one in between, slowest
    rotation = rope_rotation_frame(min(n_positions, 48), dim, pairs, base)
    decay = rope_score_against_distance(dim, 512, base).numpy()
    bias = alibi_bias(alibi_heads, min(n_positions, alibi_size)).numpy()
    slopes = alibi_slopes(alibi_heads).numpy()
    slopes_fig = go.Figure(go.Bar(x=[f"H{h}" for h in range(alibi_heads)], y=slopes))
    slopes_fig.update_layout(title="Slope per head", height=360)
    return {
        "positional-sinusoidal": (
            sinusoidal_figure(table.numpy()),
            pd.DataFrame(table.numpy()).rename_axis("position").reset_index(),
        ),
        "positional-similarity": (
            similarity_figure(similarity, distances.numpy(), means.numpy()),
            pd.DataFrame({"distance": distances.numpy(), "mean_cosine": means.numpy()}),
        ),
        "positional-rope-rotation": (rope_rotation_figure(rotation), rotation),
        "positional-rope-decay": (
            rope_decay_figure(np.arange(len(decay)), decay, dim),
            pd.DataFrame({"distance": np.arange(len(decay)), "score": decay}),
        ),
        "positional-alibi": (
            alibi_figure(bias, slopes),
            pd.DataFrame({"head": range(alibi_heads), "slope": slopes}),
        ),
        "positional-alibi-slopes": (slopes_fig, None),
    }
