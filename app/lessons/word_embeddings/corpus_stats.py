"""The corpus as word2vec sees it: word counts, Zipf's law and subsampling of frequent words.

Tables and plotly figures for the Corpus tab; no Streamlit calls here.
"""

from __future__ import annotations

from collections import Counter

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from models.word_embeddings.word2vec import keep_probabilities


def vocabulary_stats(sentences: list) -> tuple[pd.DataFrame, dict]:
    """Every distinct word with its count (most frequent first, as build_vocab orders them)."""
    counts = Counter(word for sentence in sentences for word in sentence)
    ordered = sorted(counts.items(), key=lambda item: -item[1])  # stable: ties keep first appearance
    frame = pd.DataFrame(ordered, columns=["word", "count"])
    frame.insert(0, "rank", np.arange(1, len(frame) + 1))
    lengths = np.array([len(s) for s in sentences]) if sentences else np.zeros(1, dtype=int)
    stats = {
        "sentences": len(sentences),
        "tokens": int(frame["count"].sum()),
        "distinct": len(frame),
        "longest": int(lengths.max()),
        "median_length": float(np.median(lengths)),
    }
    return frame, stats


def in_vocabulary(frame: pd.DataFrame, min_count: int) -> pd.DataFrame:
    return frame[frame["count"] >= min_count]


def zipf_fit(frame: pd.DataFrame, min_count: int) -> tuple[float, float]:
    """Least-squares line log10(count) = intercept + slope * log10(rank) over the vocabulary."""
    vocab = in_vocabulary(frame, max(min_count, 2))
    if len(vocab) < 3:
        return float("nan"), float("nan")
    slope, intercept = np.polyfit(np.log10(vocab["rank"]), np.log10(vocab["count"]), 1)
    return float(slope), float(intercept)


def zipf_frame(frame: pd.DataFrame, max_points: int = 400) -> pd.DataFrame:
    """The rank-count curve at log-spaced ranks (every rank up to 30), so the chart stays light."""
    n = len(frame)
    ranks = np.unique(np.r_[np.arange(1, min(n, 30) + 1), np.geomspace(1, n, max_points).round()])
    return frame.iloc[ranks.astype(int) - 1].reset_index(drop=True)


def zipf_figure(points: pd.DataFrame, min_count: int, slope: float, intercept: float, n_words: int) -> go.Figure:
    fig = go.Figure()
    fig.add_scatter(
        x=points["rank"],
        y=points["count"],
        mode="lines+markers",
        marker=dict(size=4),
        name="words of the corpus",
        customdata=points["word"],
        hovertemplate="rank %{x:,}: %{customdata}<br>%{y:,} times<extra></extra>",
    )
    if np.isfinite(slope):
        ranks = np.array([1, n_words])
        fig.add_scatter(
            x=ranks,
            y=10**intercept * ranks**slope,
            mode="lines",
            line=dict(dash="dash", color="#999"),
            name=f"fit: count ∝ rank^{slope:.2f}",
        )
    fig.add_scatter(
        x=[1, n_words],
        y=[min_count, min_count],
        mode="lines",
        line=dict(dash="dot", color="#e76f51"),
        name=f"min_count = {min_count}: rarer words get no vector",
    )
    fig.update_xaxes(type="log", title="rank (1 = most frequent)", dtick=1)
    fig.update_yaxes(type="log", title="count", dtick=1)
    fig.update_layout(
        title="Zipf's law: rank against frequency (log-log)",
        height=380,
        legend=dict(orientation="h", y=-0.2),
    )
    return fig


def keep_frame(frame: pd.DataFrame, min_count: int, subsample: float) -> pd.DataFrame:
    """Keep probability of each in-vocabulary count (one row per distinct count, with a word)."""
    vocab = in_vocabulary(frame, min_count)
    keep = keep_probabilities(vocab["count"].to_numpy(), subsample)
    rows = pd.DataFrame(
        {
            "word": vocab["word"].to_numpy(),
            "count": vocab["count"].to_numpy(),
            "frequency": vocab["count"].to_numpy() / max(int(vocab["count"].sum()), 1),
            "keep_probability": keep,
        }
    )
    return rows.drop_duplicates("count").reset_index(drop=True)  # most frequent word per count


def kept_share(frame: pd.DataFrame, min_count: int, subsample: float) -> float:
    """Expected share of in-vocabulary tokens that survive subsampling in an epoch."""
    counts = in_vocabulary(frame, min_count)["count"].to_numpy()
    if len(counts) == 0:
        return float("nan")
    return float((counts * keep_probabilities(counts, subsample)).sum() / counts.sum())


def keep_figure(rows: pd.DataFrame, subsample: float, labelled: int = 5) -> go.Figure:
    fig = go.Figure()
    fig.add_scatter(
        x=rows["frequency"],
        y=rows["keep_probability"],
        mode="lines+markers",
        marker=dict(size=4),
        name="keep probability",
        customdata=np.stack([rows["word"], rows["count"]], -1),
        hovertemplate="%{customdata[0]} (%{customdata[1]:,} times)<br>frequency %{x:.2e}"
        "<br>kept with p = %{y:.3f}<extra></extra>",
    )
    top = rows.head(labelled)
    fig.add_scatter(
        x=top["frequency"],
        y=top["keep_probability"],
        mode="markers+text",
        text=top["word"],
        textposition=["top right", "bottom left"] * labelled,
        marker=dict(size=8, color="#e76f51"),
        name="most frequent words",
        hoverinfo="skip",
    )
    if subsample > 0:
        fig.add_vline(
            x=subsample,
            line_dash="dot",
            annotation_text=f"t = {subsample:g}",
            annotation_position="top left",
        )
    fig.update_xaxes(
        type="log",
        title="word frequency (share of the in-vocabulary tokens)",
        dtick=1,
        exponentformat="power",
    )
    fig.update_yaxes(title="chance an occurrence is kept", range=[0, 1.1])
    fig.update_layout(
        title="Subsampling: frequent words are dropped at random",
        height=380,
        legend=dict(orientation="h", y=-0.2),
    )
    return fig
