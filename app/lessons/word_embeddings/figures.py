"""Plotly figures of the Skip-gram vs CBOW tab (pure: no Streamlit, testable alone)."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

PAIR_COLORS = {"skip-gram": "#1f77b4", "CBOW": "#d62728"}


def pair_loss_figure(history: pd.DataFrame) -> go.Figure:
    """Both architectures' negative-sampling loss per example against epochs, one line each."""
    fig = go.Figure()
    for name, color in PAIR_COLORS.items():
        column = f"loss {name}"
        if column in history:
            fig.add_scatter(
                x=history["epochs"],
                y=history[column],
                mode="lines+markers",
                name=name,
                line=dict(color=color),
            )
    fig.update_layout(
        title="Loss per example, skip-gram and CBOW (same K: comparable scale)",
        xaxis_title="epochs",
        yaxis_title="negative-sampling loss",
        height=360,
        legend=dict(orientation="h", y=-0.25),
    )
    return fig
