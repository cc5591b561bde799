"""Plotly figures of the Skip-gram vs CBOW tab (pure: no Streamlit, testable alone)."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

PAIR_COLORS = ["#1f77b4", "#d62728"]  # the left run, the right run


def pair_loss_figure(history: pd.DataFrame, labels: list[str], comparable: bool) -> go.Figure:
    """Both runs' negative-sampling loss per example against epochs, one line each."""
    fig = go.Figure()
    for name, color in zip(labels, PAIR_COLORS):
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
        title="Loss per example" + ("" if comparable else " (K differs: not comparable)"),
        xaxis_title="epochs",
        yaxis_title="negative-sampling loss",
        height=360,
        legend=dict(orientation="h", y=-0.25),
    )
    return fig
