"""Plotly figures for the n-gram lesson's tabs, one per chart. No Streamlit here."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from app.lessons.ngrams.labels import COLORS, SHORT

LOG_PROBABILITY_AXIS = dict(type="log", dtick=1, exponentformat="e")  # 1e-5 style, one tick a decade
LEGEND = dict(title=None, yanchor="top", y=1.0)  # on the right, clear of the title


# ---- counts and smoothing side by side -----------------------------------------------------------


def next_word_bars(table: pd.DataFrame, smoothings: list[str], log_y: bool, context: str = "") -> go.Figure:
    fig = go.Figure()
    for name in smoothings:
        score_only = name == "stupid_backoff"
        fig.add_bar(
            x=table["next word"],
            y=table[SHORT[name]],
            name=SHORT[name],
            marker_color=COLORS[name],
            marker_pattern_shape="/" if score_only else "",
            hovertemplate="%{x}<br>%{y:.4g}<extra>" + SHORT[name] + "</extra>",
        )
    fig.update_layout(
        title=f"p(next word | “{context}”) under each smoothing" if context else None,
        barmode="group",
        height=420,
        xaxis_title="next word",
        yaxis_title="p(word | context)  (stupid backoff: score)",
        legend=LEGEND,
    )
    if log_y:
        fig.update_yaxes(**LOG_PROBABILITY_AXIS)
    return fig


def mass_bars(mass: pd.DataFrame, context: str = "") -> go.Figure:
    """Stacked: mass on words seen after the context and on words never seen after it."""
    fig = go.Figure()
    fig.add_bar(
        x=mass["smoothing"],
        y=mass["to words seen after the context"],
        name="to words seen after the context",
        marker_color="#8ecae6",
    )
    fig.add_bar(
        x=mass["smoothing"],
        y=mass["to words never seen after it"],
        name="to words never seen after it (moved by smoothing)",
        marker_color="#e76f51",
        text=[f"{v:.1%}" for v in mass["to words never seen after it"]],
        textposition="inside",
    )
    fig.add_hline(
        y=1.0,
        line_dash="dot",
        line_color="#555",
        annotation_text="1 = a probability",
        annotation_position="top left",
    )
    fig.update_layout(
        title=f"Where the probability after “{context}” goes" if context else "Where the mass goes",
        barmode="stack",
        height=380,
        xaxis_title="smoothing",
        yaxis_title="total over the vocabulary",
        legend=LEGEND,
    )
    return fig


# ---- Kneser-Ney's idea ---------------------------------------------------------------------------


def continuation_scatter(frame: pd.DataFrame, highlight: list[str], max_points: int) -> go.Figure:
    points = frame.head(max_points)  # the most frequent words (the frame is sorted by count)
    fig = go.Figure()
    fig.add_scattergl(
        x=points["count"],
        y=points["distinct left words"],
        mode="markers",
        name="words",
        text=points["word"],
        marker=dict(
            size=5,
            color=np.log10(points["count per left word"]),
            colorscale="Viridis",
            colorbar=dict(title="log10 count<br>per left word", len=0.55, y=0, yanchor="bottom"),
            opacity=0.7,
        ),
        hovertemplate="%{text}<br>count %{x}<br>distinct left words %{y}<extra></extra>",
    )
    top = max(float(points["count"].max()), 1.0)
    fig.add_scatter(
        x=[1, top],
        y=[1, top],
        mode="lines",
        line=dict(dash="dot", color="#999"),
        name="every occurrence after a new word",
    )
    marked = frame[frame["word"].isin(highlight)]
    fig.add_scatter(
        x=marked["count"],
        y=marked["distinct left words"],
        mode="markers+text",
        text=marked["word"],
        textposition="top center",
        marker=dict(size=12, color="#e63946", symbol="diamond"),
        name="largest gaps",
        hovertemplate="%{text}<br>count %{x}<br>distinct left words %{y}<extra></extra>",
    )
    count_axis = dict(type="log", dtick=1, exponentformat="none", separatethousands=True)
    fig.update_xaxes(title="count in training (what a unigram model uses)", **count_axis)
    fig.update_yaxes(title="distinct left words (what Kneser-Ney uses)", **count_axis)
    fig.update_layout(
        title="How often a word occurs against after how many different words",
        height=480,
        legend=LEGEND,  # above the (shortened) colour bar
    )
    return fig


def left_neighbour_bars(frame: pd.DataFrame, word: str) -> go.Figure:
    fig = go.Figure(go.Bar(x=frame["left word"], y=frame["count"], marker_color="#2a9d8f"))
    fig.update_layout(
        title=f"The words right before “{word}” in training",
        height=300,
        xaxis_title=f"word before '{word}'",
        yaxis_title="count",
        showlegend=False,
    )
    return fig


# ---- perplexity curves ---------------------------------------------------------------------------


def order_curves_figure(curves: dict, pins: list[dict], hide: tuple = ()) -> go.Figure:
    fig = go.Figure()
    for name, row in curves["perplexity"].items():
        values = [v if math.isfinite(v) else None for v in row]
        if name in hide or all(v is None for v in values):
            continue  # mle: infinite everywhere; said in the caption
        fig.add_scatter(
            x=curves["orders"],
            y=values,
            mode="lines+markers",
            name=SHORT[name],
            line=dict(color=COLORS[name]),
        )
    for pin in pins:
        fig.add_scatter(
            x=[pin["order"]],
            y=[pin["perplexity"]],
            mode="markers",
            marker=dict(symbol="diamond", size=13, line=dict(width=1, color="#000")),
            name=f"📌 {pin['label']}",
        )
    fig.update_xaxes(title="order n", dtick=1)
    fig.update_yaxes(type="log", title="held-out perplexity (log scale)", exponentformat="none")
    fig.update_layout(title="Held-out perplexity against the order (lower is better)", height=420, legend=LEGEND)
    return fig


def sweep_figure(
    x: list[float],
    y: list[float],
    x_title: str,
    current: float,
    log_x: bool,
    names: list[str],
    title: str = "",
) -> go.Figure:
    """One or more perplexity curves against a hyperparameter; a dotted line at the current value."""
    fig = go.Figure()
    for name, values in zip(names, y):
        fig.add_scatter(
            x=x,
            y=[v if math.isfinite(v) else None for v in values],
            mode="lines+markers",
            name=SHORT[name],
            line=dict(color=COLORS[name]),
        )
    fig.add_vline(x=current, line_dash="dot", annotation_text="current")
    fig.update_xaxes(title=x_title, type="log" if log_x else "linear", exponentformat="e")
    fig.update_yaxes(title="held-out perplexity")
    fig.update_layout(
        title=title or None,
        height=360,
        legend=dict(orientation="h", yanchor="top", y=-0.25),  # below: two columns share the width
    )
    return fig


def lambda_bars(frame: pd.DataFrame) -> go.Figure:
    fig = go.Figure()
    palette = ["#adb5bd", "#8ecae6", "#219ebc", "#2a9d8f", "#264653", "#e9c46a"]
    for j, part in enumerate(dict.fromkeys(frame["part"])):
        rows = frame[frame["part"] == part]
        fig.add_bar(x=rows["model order"], y=rows["weight"], name=part, marker_color=palette[j % 6])
    fig.update_layout(
        title="Jelinek-Mercer weights fitted by EM, per model order",
        barmode="stack",
        height=360,
        xaxis=dict(title="interpolated model of order n", dtick=1),
        yaxis_title="EM weight",
        legend=dict(LEGEND, title="weight of"),
    )
    return fig


# ---- scoring a sentence --------------------------------------------------------------------------


def token_bars(frame: pd.DataFrame, order: int, score_word: str, about: str = "") -> go.Figure:
    """log10 p per token, coloured by the longest n-gram found; p = 0 drawn as a hatched bar to the
    bottom of the chart, labelled −∞."""
    palette = ["#adb5bd", "#f4a261", "#e9c46a", "#8ab17d", "#2a9d8f", "#264653"]
    log10_p = frame["log10 p"].to_numpy(dtype=float)
    finite = np.isfinite(log10_p)
    floor = (log10_p[finite].min() if finite.any() else 0.0) - 1.0  # where −∞ is drawn
    labels = [f"{i + 1}. {t}" for i, t in enumerate(frame["token"])]
    fig = go.Figure()
    for found in range(order + 1):
        rows = (frame["order found"] == found).to_numpy()
        for is_zero in (False, True):
            picked = rows & (finite != is_zero)
            if not picked.any():
                continue
            name = "never seen" if found == 0 else f"{found}-gram found"
            fig.add_bar(
                x=[lab for lab, r in zip(labels, picked) if r],
                y=np.where(finite, log10_p, floor)[picked],
                name=name + (f", {score_word} = 0" if is_zero else ""),
                marker_color="#9d0208" if is_zero else palette[found],
                marker_pattern_shape="x" if is_zero else "",
                text=["−∞"] * int(picked.sum()) if is_zero else None,
                hovertemplate="%{x}<br>log10 " + ("−∞" if is_zero else "%{y:.2f}") + "<extra></extra>",
            )
    fig.update_layout(
        title=f"log10 {score_word} of each token" + (f" ({about})" if about else ""),
        height=340,
        yaxis_title=f"log10 {score_word}",
        xaxis=dict(title="token of the sentence", categoryorder="array", categoryarray=labels),
        legend=dict(LEGEND, title="longest n-gram in training"),
    )
    return fig


# ---- the vocabulary cut --------------------------------------------------------------------------


def vocabulary_sweep_figure(frame: pd.DataFrame, about: str = "") -> go.Figure:
    fig = go.Figure()
    fig.add_scatter(
        x=frame["min_count"],
        y=frame["held-out perplexity"],
        mode="lines+markers",
        name="held-out perplexity",
        line=dict(color="#264653"),
        text=[f"{v:,} words" for v in frame["vocabulary size"]],
        hovertemplate="min_count %{x}<br>perplexity %{y:.1f}<br>%{text}<extra></extra>",
    )
    fig.add_scatter(
        x=frame["min_count"],
        y=frame["<unk> rate"],
        mode="lines+markers",
        name="held-out <unk> rate",
        line=dict(color="#e76f51", dash="dash"),
        yaxis="y2",
    )
    fig.update_layout(
        title="Held-out perplexity and <unk> rate against min_count" + (f" ({about})" if about else ""),
        height=380,
        xaxis=dict(
            title="min_count (words seen fewer times become <unk>)",
            type="log",
            tickvals=list(frame["min_count"]),
        ),
        yaxis=dict(title="held-out perplexity"),
        yaxis2=dict(title="<unk> rate", overlaying="y", side="right", tickformat=".0%"),
        legend=dict(orientation="h", yanchor="top", y=-0.3),  # below: the right axis is taken
    )
    return fig
