"""Negative sampling made visible: the noise distribution count^α and one training example's terms.

Tables and plotly figures for the Negative sampling tab; no Streamlit calls here.
"""

from __future__ import annotations

import random

import pandas as pd
import plotly.graph_objects as go

from app.lessons.word_embeddings.corpus_stats import in_vocabulary
from models.word_embeddings.word2vec import noise_distribution


def noise_frame(frame: pd.DataFrame, min_count: int, exponent: float, top: int) -> pd.DataFrame:
    """Unigram and noise probability (count**exponent, normalised) of the most frequent words."""
    vocab = in_vocabulary(frame, min_count)
    counts = vocab["count"].to_numpy()
    noise = noise_distribution(counts, exponent)
    rows = pd.DataFrame(
        {
            "rank": vocab["rank"].to_numpy(),
            "word": vocab["word"].to_numpy(),
            "count": counts,
            "unigram": counts / counts.sum(),
            "noise": noise,
        }
    )
    rows["noise / unigram"] = rows["noise"] / rows["unigram"]
    rows["part"] = ["most frequent" if i < top else "rarest" for i in range(len(rows))]
    return pd.concat([rows.head(top), rows.tail(3)]).drop_duplicates("rank")  # + the rarest words


def noise_figure(rows: pd.DataFrame, exponent: float) -> go.Figure:
    labels = [w if part == "most frequent" else f"… {w}" for w, part in zip(rows.word, rows.part)]
    fig = go.Figure()
    fig.add_bar(x=labels, y=rows["unigram"], name="unigram: count / N", marker_color="#c9d6df")
    fig.add_bar(
        x=labels,
        y=rows["noise"],
        name=f"noise: count^{exponent:g}, normalised",
        marker_color="#2a9d8f",
        customdata=rows["noise / unigram"],
        hovertemplate="%{x}<br>noise %{y:.2e}<br>× %{customdata:.2f} its unigram share<extra></extra>",
    )
    fig.update_yaxes(type="log", title="probability of being drawn (log)", dtick=1, exponentformat="power")
    fig.update_layout(
        barmode="group",
        title="Where the negative samples come from: the most frequent words, then the rarest",
        height=420,
        legend=dict(orientation="h", y=-0.3),
    )
    return fig


def corpus_pair(sentences: list, vocabulary: set, arch: str, window: int, seed: int) -> tuple[str, list]:
    """A real training example: a centre word and its context word(s) (CBOW: the whole window)."""
    rng = random.Random(seed)
    for _ in range(2000):
        sentence = [w for w in rng.choice(sentences) if w in vocabulary]
        if len(sentence) < 2:
            continue
        i = rng.randrange(len(sentence))
        context = [sentence[j] for j in range(max(0, i - window), min(len(sentence), i + window + 1)) if j != i]
        return sentence[i], context if arch == "cbow" else [rng.choice(context)]
    raise ValueError("No sentence of this corpus has two in-vocabulary words.")


def explain_frame(explanation: dict) -> pd.DataFrame:
    n = len(explanation["target_words"])
    return pd.DataFrame(
        {
            "role": ["true word"] + ["noise"] * (n - 1),
            "word": explanation["target_words"],
            "label": explanation["labels"].astype(int),
            "P(noise)": explanation["noise_probabilities"],
            "dot u·v": explanation["dots"],
            "σ(dot)": explanation["probabilities"],
            "loss term": explanation["loss_terms"],
            "label − σ": explanation["gradient_scales"],
            "skipped": explanation["skipped"],
        }
    )


def explain_figure(rows: pd.DataFrame) -> go.Figure:
    names = [f"{w} (true)" if i == 0 else f"{w} (noise {i})" for i, w in enumerate(rows.word)]
    colors = ["#2a9d8f" if r == "true word" else "#e76f51" for r in rows.role]
    fig = go.Figure()
    fig.add_bar(
        x=names,
        y=rows["σ(dot)"],
        marker_color=colors,
        name="σ(dot): P(this is the true word)",
        text=[f"{v:.2f}" for v in rows["σ(dot)"]],
        textposition="outside",
    )
    fig.add_scatter(
        x=names,
        y=rows["loss term"],
        mode="markers",
        marker=dict(symbol="diamond", size=12, color="#264653"),
        name="loss term",
    )
    top = max(1.0, float(rows["loss term"].max())) * 1.15
    fig.update_layout(
        title="σ(dot): the true word should score near 1, noise words near 0",
        yaxis=dict(title="probability / loss (nats)", range=[0, top]),
        height=380,
        legend=dict(orientation="h", y=-0.25),
    )
    return fig
