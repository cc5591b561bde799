"""Plotly figures for the next-token explorer. No Streamlit here: each takes frames and returns a figure."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

RAW = "#c9d6df"  # the model's own distribution (T = 1)
FATES = {  # what the filters did to a token -> bar colour
    "kept": "#2a9d8f",
    "cut by top-k": "#e63946",
    "cut by top-p": "#f4a261",
}
PIN_COLORS = ["#3a0ca3", "#111111", "#b5179e", "#4361ee"]  # far from the bars' green and orange


def token_label(token: str) -> str:
    """A token as an axis label: spaces and newlines made visible by repr when the token is only those."""
    return repr(token)[1:-1] if token.strip() else repr(token)


def token_probability_bars(
    frame: pd.DataFrame,
    pins: list[tuple[str, pd.DataFrame]] = (),
    log_y: bool = False,
    title: str = "",
) -> go.Figure:
    """`title`: the end of the prompt. Left: the top tokens before sampling, model (T=1) and after temperature, coloured kept or cut.
    Right: the distribution actually sampled from, renormalised over the kept tokens (pins drawn there).

    `frame` columns: token, p_raw, p_tempered, p_final, status ("kept" / "cut by top-k" / "cut by top-p").
    """
    labels = [token_label(t) for t in frame["token"]]
    fig = make_subplots(
        rows=1,
        cols=2,
        column_widths=[0.6, 0.4],
        horizontal_spacing=0.08,
        subplot_titles=(
            f"After “{title}”: the tokens the filters keep and cut" if title else "Kept and cut",
            "Sampled from: the kept tokens, renormalised",
        ),
    )
    fig.add_bar(x=labels, y=frame["p_raw"], name="model probability (T = 1)", marker_color=RAW, row=1, col=1)
    for fate, color in FATES.items():
        rows = (frame["status"] == fate).to_numpy()
        if fate != "kept" and not rows.any():
            continue  # no token cut this way: no legend entry promising one
        fig.add_bar(
            x=[lab for lab, r in zip(labels, rows) if r],
            y=frame["p_tempered"][rows],
            name=f"after temperature: {fate}",
            marker_color=color,
            marker_pattern_shape="" if fate == "kept" else "/",
            customdata=np.stack([frame["p_raw"][rows], frame["p_final"][rows]], -1),
            hovertemplate="%{x}<br>after temperature %{y:.4f}<br>model %{customdata[0]:.4f}"
            "<br>sampled with p %{customdata[1]:.4f}<extra>" + fate + "</extra>",
            row=1,
            col=1,
        )
    kept = (frame["status"] == "kept").to_numpy()
    fig.add_bar(
        x=[lab for lab, k in zip(labels, kept) if k],
        y=frame["p_final"][kept],
        name="sampled from (renormalised)",
        marker_color=FATES["kept"],
        marker_line=dict(color="#1d6f65", width=1.5),
        hovertemplate="%{x}<br>sampled with p %{y:.4f}<extra></extra>",
        row=1,
        col=2,
    )
    for i, (label, pin) in enumerate(pins):
        fig.add_scatter(
            x=[token_label(t) for t in pin["token"]],
            y=pin["p_final"],
            mode="markers",
            name=f"📌 {label}",
            marker=dict(symbol="diamond", size=11, color=PIN_COLORS[i % len(PIN_COLORS)]),
            row=1,
            col=2,
        )
    fig.update_layout(
        barmode="group",
        height=460,
        legend=dict(orientation="h", yanchor="top", y=-0.3, x=0),
    )
    fig.update_xaxes(title_text="next token (most likely after temperature first)", row=1, col=1)
    fig.update_xaxes(title_text="kept token", row=1, col=2)
    axis = dict(type="log", dtick=1, exponentformat="e") if log_y else dict(rangemode="tozero")
    fig.update_yaxes(title_text="probability" + (" (log scale)" if log_y else ""), **axis)
    return fig
