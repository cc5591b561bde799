"""Figures and tables of the embedding-spaces lesson: plotly and pandas only, no Streamlit (testable alone)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.express as px
import plotly.graph_objects as go

COLORS = px.colors.qualitative.D3


def pca(vectors: np.ndarray, dims: int) -> tuple[np.ndarray, list[str]]:
    """(n, d) -> (n, dims) principal-component coordinates and axis titles with the variance each explains."""
    centred = vectors - vectors.mean(0, keepdims=True)
    _, singular, directions = np.linalg.svd(centred, full_matrices=False)
    dims = min(dims, len(singular))
    share = singular**2 / max(float((singular**2).sum()), 1e-12)
    coordinates = centred @ directions[:dims].T  # (n, dims)
    return coordinates, [f"PC{i + 1} ({share[i]:.0%} of variance)" for i in range(dims)]


def neighbours_figure(rows: list[tuple[str, float]], title: str) -> go.Figure:
    words, cosines = [w for w, _ in rows], [c for _, c in rows]
    fig = go.Figure(
        go.Bar(
            x=cosines[::-1],
            y=words[::-1],
            orientation="h",
            text=[f"{c:.2f}" for c in cosines[::-1]],
            textposition="auto",
            marker_color=COLORS[0],
        )
    )
    fig.update_layout(title=title, xaxis_title="cosine similarity", height=120 + 28 * len(rows))
    return fig


def compare_table(answers: dict[str, list[tuple[str, float]] | str]) -> pd.DataFrame:
    """One column per space: 'word (cosine)' per rank, or the space's message when it cannot answer."""
    longest = max((len(a) for a in answers.values() if not isinstance(a, str)), default=1)
    columns = {}
    for space, answer in answers.items():
        if isinstance(answer, str):
            columns[space] = [answer] + [""] * (longest - 1)
        else:
            cells = [f"{w} ({c:.2f})" for w, c in answer]
            columns[space] = cells + [""] * (longest - len(cells))
    return pd.DataFrame(columns, index=pd.RangeIndex(1, longest + 1, name="rank"))


def map_figure(frame: pd.DataFrame, axes: list[str], title: str) -> go.Figure:
    """Words as labelled points coloured by group; frame has word, group and x, y (and z for 3D)."""
    three_d = "z" in frame
    draw = px.scatter_3d if three_d else px.scatter
    coords = dict(x="x", y="y", z="z") if three_d else dict(x="x", y="y")
    fig = draw(frame, **coords, color="group", text="word", color_discrete_sequence=COLORS, title=title)
    fig.update_traces(marker_size=6 if three_d else 11, textposition="top center")
    labels = dict(xaxis_title=axes[0], yaxis_title=axes[1] if len(axes) > 1 else "")
    if three_d:
        fig.update_layout(
            scene=dict(
                xaxis_title=axes[0],
                yaxis_title=axes[1],
                zaxis_title=axes[2] if len(axes) > 2 else "",
            ),
            height=620,
        )
    else:
        fig.update_layout(**labels, height=560)
    return fig


def scores_figure(frame: pd.DataFrame) -> go.Figure:
    """Grouped bars: one group per benchmark, one bar per space; the hover says the coverage."""
    fig = go.Figure()
    for i, (space, rows) in enumerate(frame.groupby("space", sort=False)):
        fig.add_bar(
            x=rows["benchmark"],
            y=rows["score"],
            name=space,
            marker_color=COLORS[i % len(COLORS)],
            text=[f"{s:.2f}<br>{c:.0%} covered" for s, c in zip(rows["score"], rows["coverage"])],
            textposition="outside",
            hovertemplate="%{x}: %{y:.3f}<extra>" + space + "</extra>",
        )
    fig.update_layout(
        barmode="group",
        yaxis_title="Spearman ρ (similarity) · accuracy (analogies)",
        yaxis_range=[min(0.0, float(frame["score"].min()) - 0.05), 1.0],
        title="The same questions asked of each space (on the words each one covers)",
        height=460,
    )
    return fig


def heatmap_figure(matrix: np.ndarray, labels: list[str], title: str) -> go.Figure:
    """Cosine matrix with its values written in the cells (up to 15 rows); short labels read best."""
    fig = go.Figure(
        go.Heatmap(
            z=matrix,
            x=labels,
            y=labels,
            zmin=-1,
            zmax=1,
            colorscale="RdBu",
            reversescale=True,
            texttemplate="%{z:.2f}" if len(labels) <= 15 else None,
            textfont=dict(size=13),
            colorbar_title="cosine",
            hovertemplate="%{y} · %{x}: %{z:.3f}<extra></extra>",
        )
    )
    fig.update_layout(title=title, height=200 + 36 * len(labels), yaxis_autorange="reversed")
    fig.update_xaxes(side="bottom", tickangle=0)
    return fig


def sense_layers_figure(rows: list[dict], word: str, model: str) -> go.Figure:
    frame = pd.DataFrame(rows)
    fig = go.Figure()
    for column, name, color in (
        ("same_sense", "same sense", COLORS[2]),
        ("different_sense", "different senses", COLORS[3]),
    ):
        fig.add_scatter(x=frame["layer"], y=frame[column], name=name, mode="lines+markers", marker_color=color)
    fig.update_layout(
        title=f"“{word}” in {model}: mean cosine between its occurrences, layer by layer",
        xaxis_title="layer (0 = the embedding layer)",
        yaxis_title="mean cosine",
        height=400,
    )
    return fig


def occurrences_figure(frame: pd.DataFrame, axes: list[str], title: str) -> go.Figure:
    """Occurrences as points coloured by sense; the static token vector as a black star."""
    fig = go.Figure()
    for i, (sense, rows) in enumerate(frame[frame["sense"] != "static"].groupby("sense")):
        fig.add_scatter(
            x=rows["x"],
            y=rows["y"],
            mode="markers+text",
            name=sense,
            text=rows["label"],
            textposition="top center",
            marker=dict(size=13, color=COLORS[i % len(COLORS)]),
            hovertext=rows["sentence"],
            hoverinfo="text",
        )
    static = frame[frame["sense"] == "static"]
    if len(static):
        fig.add_scatter(
            x=static["x"],
            y=static["y"],
            mode="markers+text",
            name="static token vector",
            text=["static"],
            textposition="bottom center",
            marker=dict(size=18, color="black", symbol="star"),
        )
    fig.update_layout(title=title, xaxis_title=axes[0], yaxis_title=axes[-1], height=480)
    return fig


def sentence_map_figure(frame: pd.DataFrame, axes: list[str]) -> go.Figure:
    fig = px.scatter(
        frame,
        x="x",
        y="y",
        text="label",
        hover_name="sentence",
        color_discrete_sequence=COLORS,
        title="Your sentences, projected (PCA of MiniLM's sentence vectors)",
    )
    fig.update_traces(marker_size=12, textposition="top center")
    fig.update_layout(xaxis_title=axes[0], yaxis_title=axes[-1], height=460)
    return fig
