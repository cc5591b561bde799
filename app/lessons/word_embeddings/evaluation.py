"""Intrinsic evaluation of word vectors (WordSim-353, SimLex-999, analogies) beside gensim's word2vec.

Scores, tables and plotly figures for the Evaluate tab, and the word2vec text export; no Streamlit calls here.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from app.lessons.word_embeddings.trainer import config_of
from models.word_embeddings.evaluation import (
    KeyedVectors,
    evaluate_analogies,
    evaluate_word_pairs,
    train_gensim_reference,
)


def evaluate(vectors, corpus: str) -> dict:
    """WordSim-353, SimLex-999 (Spearman) and analogy accuracy (toy world's or Google's)."""
    analogy_set = "toy" if corpus == "toy" else "google"
    return {
        "wordsim": evaluate_word_pairs(vectors, "wordsim353"),
        "simlex": evaluate_word_pairs(vectors, "simlex999"),
        "analogies": evaluate_analogies(vectors, analogy_set, restrict_vocab=30_000),
        "analogy_set": analogy_set,
    }


def score_rows(result: dict, model: str) -> list[dict]:
    analogies = result["analogies"]
    title = "toy-world analogies" if result["analogy_set"] == "toy" else "Google analogies"
    rows = []
    for key, name in (
        ("wordsim", "WordSim-353 (Spearman ρ)"),
        ("simlex", "SimLex-999 (Spearman ρ)"),
    ):
        r = result[key]
        rows.append(
            {
                "benchmark": name,
                "model": model,
                "score": r["spearman"],
                "covered": r["pairs_used"],
                "total": r["pairs_total"],
                "coverage": r["coverage"],
            }
        )
    rows.append(
        {
            "benchmark": f"{title} (accuracy)",
            "model": model,
            "score": analogies["accuracy"],
            "covered": analogies["covered"],
            "total": analogies["questions"],
            "coverage": analogies["coverage"],
        }
    )
    return rows


def scores_display(rows: pd.DataFrame) -> pd.DataFrame:
    """The score table as shown: 'n/a' for too few pairs, 'covered / total', coverage in %."""
    return pd.DataFrame(
        {
            "benchmark": rows["benchmark"],
            "model": rows["model"],
            "score": [f"{s:.3f}" if np.isfinite(s) else "n/a" for s in rows["score"]],
            "covered": rows["covered"].astype(str) + " / " + rows["total"].astype(str),
            "coverage": [f"{c:.0%}" for c in rows["coverage"]],
        }
    )


def runs_frame(entries: list[dict]) -> pd.DataFrame:
    """One row per evaluated run (label, epochs, training time, each score), to compare settings."""
    return pd.DataFrame(
        [
            {
                "run": e["label"],
                "epochs": e["epochs"],
                "train s": e["seconds"],
                **{r["benchmark"]: r["score"] for r in score_rows(e["scores"], "")},
            }
            for e in entries
        ]
    )


def scores_figure(rows: pd.DataFrame) -> go.Figure:
    fig = go.Figure()
    for i, (model, part) in enumerate(rows.groupby("model", sort=False)):
        fig.add_bar(
            x=part["benchmark"],
            y=part["score"],
            name=model,
            marker_color=["#2a9d8f", "#264653", "#e9c46a", "#e76f51"][i % 4],
            text=[f"{s:.3f}" if np.isfinite(s) else "n/a" for s in part["score"]],
            textposition="outside",
            customdata=np.stack([part["covered"], part["total"]], -1),
            hovertemplate="%{x}<br>%{y:.3f} on %{customdata[0]} of %{customdata[1]}<extra></extra>",
        )
    fig.update_layout(
        barmode="group",
        title="Intrinsic evaluation (higher is better; only the covered items count)",
        yaxis_title="score",
        height=420,
        legend=dict(orientation="h", y=-0.2),
    )
    return fig


def pairs_figure(results: dict[str, dict], benchmark: str) -> go.Figure:
    fig = go.Figure()
    for i, (model, result) in enumerate(results.items()):
        pairs = pd.DataFrame(result[benchmark]["pairs"])
        if pairs.empty:
            continue
        fig.add_scatter(
            x=pairs["human"],
            y=pairs["cosine"],
            mode="markers",
            name=f"{model} (ρ = {result[benchmark]['spearman']:.3f})",
            marker=dict(size=6, opacity=0.7, color=["#2a9d8f", "#e76f51"][i % 2]),
            text=pairs["word_a"] + " – " + pairs["word_b"],
            hovertemplate="%{text}<br>human %{x}<br>cosine %{y:.3f}<extra></extra>",
        )
    name = "WordSim-353" if benchmark == "wordsim" else "SimLex-999"
    fig.update_layout(
        title=f"{name}: human similarity against cosine similarity, one dot per covered pair",
        xaxis_title="human score",
        yaxis_title="cosine of the two vectors",
        height=400,
        legend=dict(orientation="h", y=-0.2),
    )
    return fig


def train_gensim(sentences: list, settings: dict) -> tuple:
    """gensim's Word2Vec (C, one worker) on the same corpus with the same settings: (wv, seconds)."""
    return train_gensim_reference(sentences, config_of(settings), workers=1)


def word2vec_text(kv: KeyedVectors) -> bytes:
    """The vectors in word2vec's text format (header 'V d', then 'word x1 ... xd' per line)."""
    lines = [f"{len(kv)} {kv.vectors.shape[1]}"]
    for word, vector in zip(kv.index_to_word, kv.vectors):
        lines.append(word + " " + " ".join(f"{x:.6f}" for x in vector))
    return ("\n".join(lines) + "\n").encode("utf-8")
