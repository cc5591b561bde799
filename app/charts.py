"""Plotly chart builders shared by lessons. Each takes plain data and returns a figure (no Streamlit calls)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

KEPT = "#2a9d8f"
DROPPED_TOP_K = "#e76f51"
DROPPED_TOP_P = "#f4a261"


def token_probability_bars(
    frame: pd.DataFrame, pins: list[tuple[str, pd.DataFrame]] = ()
) -> go.Figure:
    """Top next tokens: raw probability, tempered probability, and the final (filtered) probability.

    `frame` columns: token, p_raw, p_tempered, p_final, status ("kept" / "cut by top-k" / "cut by top-p").
    """
    colors = (
        frame["status"]
        .map({"kept": KEPT, "cut by top-k": DROPPED_TOP_K, "cut by top-p": DROPPED_TOP_P})
        .fillna("#999")
    )
    labels = [repr(t)[1:-1] if t.strip() else repr(t) for t in frame["token"]]
    fig = go.Figure()
    fig.add_bar(x=labels, y=frame["p_raw"], name="model probability (T=1)", marker_color="#c9d6df")
    fig.add_bar(
        x=labels,
        y=frame["p_final"],
        name="after temperature, top-k, top-p",
        marker_color=colors,
        customdata=np.stack([frame["status"], frame["p_tempered"]], -1),
        hovertemplate="%{x}<br>final %{y:.4f}<br>tempered %{customdata[1]:.4f}"
        "<br>%{customdata[0]}<extra></extra>",
    )
    for label, pin in pins:
        pin_labels = [repr(t)[1:-1] if t.strip() else repr(t) for t in pin["token"]]
        fig.add_scatter(
            x=pin_labels,
            y=pin["p_final"],
            mode="markers",
            name=f"📌 {label}",
            marker=dict(symbol="diamond", size=10),
        )
    fig.update_layout(
        barmode="group",
        yaxis_title="probability",
        xaxis_title="next token",
        height=420,
        legend=dict(orientation="h", y=1.12),
    )
    return fig


def heatmap(
    matrix: np.ndarray,
    x_labels: list[str],
    y_labels: list[str],
    title: str = "",
    colorscale: str = "Viridis",
    zmin: float | None = None,
    zmax: float | None = None,
    height: int = 500,
) -> go.Figure:
    fig = go.Figure(
        go.Heatmap(
            z=matrix,
            x=list(range(len(x_labels))),
            y=list(range(len(y_labels))),
            colorscale=colorscale,
            zmin=zmin,
            zmax=zmax,
            customdata=np.array([[f"{y} → {x}" for x in x_labels] for y in y_labels]),
            hovertemplate="%{customdata}<br>%{z:.3f}<extra></extra>",
        )
    )
    fig.update_layout(title=title, height=height, yaxis=dict(autorange="reversed"))
    fig.update_xaxes(tickvals=list(range(len(x_labels))), ticktext=x_labels)
    fig.update_yaxes(tickvals=list(range(len(y_labels))), ticktext=y_labels)
    return fig


def line_chart(
    frame: pd.DataFrame,
    x: str,
    ys: list[str],
    title: str = "",
    log_y: bool = False,
    height: int = 350,
) -> go.Figure:
    fig = go.Figure()
    for y in ys:
        fig.add_scatter(x=frame[x], y=frame[y], mode="lines+markers", name=y)
    fig.update_layout(title=title, xaxis_title=x, height=height)
    if log_y:
        fig.update_yaxes(type="log")
    return fig
