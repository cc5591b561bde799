"""Tables, projections and plotly figures for the word-embeddings lesson (pages/word_embeddings.py).

No Streamlit calls here: each helper takes a corpus, a trainer or word vectors (models/word2vec*.py) and returns
a pandas frame, a dict or a figure, so the page only wires widgets, caching and error handling. `TickedTrainer`
adapts a `Word2VecTrainer` to the live-training kit: one kit step is 1% of an epoch, so progress and ETA are
exact whatever the corpus and batch size.
"""

from __future__ import annotations

import random
import time
from collections import Counter

import numpy as np
import pandas as pd
import plotly.express as px
import plotly.graph_objects as go

from models.word2vec import Word2VecConfig, Word2VecTrainer, keep_probabilities, noise_distribution
from models.word2vec_eval import (
    KeyedVectors,
    evaluate_analogies,
    evaluate_word_pairs,
    train_gensim_reference,
)

TICKS_PER_EPOCH = 100  # kit steps per epoch
PROJECTIONS = {"pca": "PCA", "tsne": "t-SNE", "umap": "UMAP"}
ARCHITECTURES = {"skipgram": "skip-gram", "cbow": "CBOW"}
OTHER = "other frequent words"
GROUP_COLORS = px.colors.qualitative.D3


# ---- the kit's view of a trainer -------------------------------------------------------------------


class TickedTrainer:
    """A Word2VecTrainer whose `train_steps(n)` trains n ticks (1% of an epoch each)."""

    def __init__(self, model: Word2VecTrainer):
        self.model = model
        self.total_ticks = model.config.epochs * TICKS_PER_EPOCH
        self.ticks = 0

    @property
    def done(self) -> bool:
        return self.model.done

    def train_steps(self, n: int) -> dict:
        model = self.model
        self.ticks = min(self.total_ticks, self.ticks + n)
        target = self.ticks / self.total_ticks
        start, words_before = time.perf_counter(), model.words_processed
        loss_sum, examples = 0.0, 0
        # inner steps until the progress (in corpus words) reaches the tick; the last tick ends training
        while not model.done and (target >= 1.0 or model.progress < target):
            pairs_before = model.pairs_processed
            metrics = model.train_steps(4)
            new = model.pairs_processed - pairs_before
            if new:
                loss_sum, examples = loss_sum + metrics["loss"] * new, examples + new
        seconds = max(time.perf_counter() - start, 1e-9)
        return {
            "loss": loss_sum / examples if examples else float("nan"),  # mean NS loss per example
            "epochs": model.progress * model.config.epochs,  # the loss curve's x axis
            "lr": model.lr,
            "words_per_s": (model.words_processed - words_before) / seconds,
            "words_processed": model.words_processed,
            "pairs_processed": model.pairs_processed,
        }


def make_config(settings: dict) -> Word2VecConfig:
    """The trainer's config from the page's settings (raises ValueError for impossible values)."""
    return Word2VecConfig(
        arch=settings["arch"],
        dim=int(settings["dim"]),
        window=int(settings["window"]),
        negatives=int(settings["negatives"]),
        ns_exponent=float(settings["ns_exponent"]),
        subsample=float(settings["subsample"]),
        min_count=int(settings["min_count"]),
        epochs=int(settings["epochs"]),
        lr=float(settings["lr"]),
        batch_size=int(settings["batch_size"]) or None,
        seed=int(settings["seed"]),
    )


def build_trainer(sentences: list, settings: dict, device: str) -> TickedTrainer:
    return TickedTrainer(Word2VecTrainer(sentences, make_config(settings), device))


# ---- the corpus: Zipf, subsampling, noise ----------------------------------------------------------


def vocabulary_stats(sentences: list) -> tuple[pd.DataFrame, dict]:
    """Every distinct word with its count (most frequent first, as build_vocab orders them)."""
    counts = Counter(word for sentence in sentences for word in sentence)
    ordered = sorted(
        counts.items(), key=lambda item: -item[1]
    )  # stable: ties keep first appearance
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


def zipf_figure(
    points: pd.DataFrame, min_count: int, slope: float, intercept: float, n_words: int
) -> go.Figure:
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
    fig.update_xaxes(type="log", title="rank (1 = most frequent)")
    fig.update_yaxes(type="log", title="count")
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
    fig.update_xaxes(type="log", title="word frequency (share of the in-vocabulary tokens)")
    fig.update_yaxes(title="chance an occurrence is kept", range=[0, 1.1])
    fig.update_layout(
        title="Subsampling: frequent words are dropped at random",
        height=380,
        legend=dict(orientation="h", y=-0.2),
    )
    return fig


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
        hovertemplate="%{x}<br>noise %{y:.2e}<br>× %{customdata:.2f} its unigram share"
        "<extra></extra>",
    )
    fig.update_yaxes(type="log", title="probability of being drawn (log)")
    fig.update_layout(
        barmode="group",
        title="Where the negative samples come from: the most frequent words, then the rarest",
        height=420,
        legend=dict(orientation="h", y=-0.3),
    )
    return fig


def corpus_pair(
    sentences: list, vocabulary: set, arch: str, window: int, seed: int
) -> tuple[str, list]:
    """A real training example: a centre word and its context word(s) (CBOW: the whole window)."""
    rng = random.Random(seed)
    for _ in range(2000):
        sentence = [w for w in rng.choice(sentences) if w in vocabulary]
        if len(sentence) < 2:
            continue
        i = rng.randrange(len(sentence))
        context = [
            sentence[j]
            for j in range(max(0, i - window), min(len(sentence), i + window + 1))
            if j != i
        ]
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


# ---- one-hot against dense -------------------------------------------------------------------------


def parse_words(text: str) -> list[str]:
    words = [w.strip().lower() for w in text.replace(",", " ").replace(";", " ").split()]
    return list(dict.fromkeys(w for w in words if w))


def parse_groups(text: str) -> list[list[str]]:
    """'king queen; man woman' -> [['king', 'queen'], ['man', 'woman']]."""
    return [g for g in (parse_words(part) for part in text.split(";")) if g]


def cosine_figure(matrix: np.ndarray, words: list[str], title: str) -> go.Figure:
    fig = go.Figure(
        go.Heatmap(
            z=matrix,
            x=words,
            y=words,
            zmin=-1,
            zmax=1,
            colorscale="RdBu",
            reversescale=True,
            texttemplate="%{z:.2f}",
            hovertemplate="cos(%{y}, %{x}) = %{z:.3f}<extra></extra>",
        )
    )
    fig.update_layout(title=title, height=420, yaxis=dict(autorange="reversed"))
    return fig


def cosine_frame(matrix: np.ndarray, words: list[str]) -> pd.DataFrame:
    return pd.DataFrame(matrix, index=words, columns=words).reset_index(names="word")


def learned_cosines(kv: KeyedVectors, words: list[str]) -> np.ndarray:
    rows = kv.normed_vectors[[kv.index(w) for w in words]]  # (n, d)
    return rows @ rows.T


# ---- the live view: projection, neighbours, analogies ----------------------------------------------


def projection_points(
    kv: KeyedVectors, groups: list[list[str]], top_n: int
) -> tuple[pd.DataFrame, list[str]]:
    """Highlighted words (one group each) + the top_n most frequent words; unknown words listed."""
    rows, missing, seen = [], [], set()
    for words in groups:
        name = " ".join(words[:4]) + (" …" if len(words) > 4 else "")
        for word in words:
            if word not in kv:
                missing.append(word)
            elif word not in seen:
                rows.append((word, name, True))
                seen.add(word)
    for word in kv.index_to_word[:top_n]:
        if word not in seen:
            rows.append((word, OTHER, False))
    frame = pd.DataFrame(rows, columns=["word", "group", "highlighted"])
    frame["count"] = [
        int(kv.counts[kv.index(w)]) if kv.counts is not None else 0 for w in frame.word
    ]
    return frame, missing


def project(vectors: np.ndarray, method: str, dims: int, seed: int = 0) -> tuple[np.ndarray, list]:
    """(n, d) vectors -> (n, dims) coordinates and axis titles (PCA: with explained variance)."""
    n = len(vectors)
    if n < dims + 1:
        raise ValueError(f"Need at least {dims + 1} words to draw a {dims}D projection; got {n}.")
    if method == "pca":
        from sklearn.decomposition import PCA

        pca = PCA(n_components=min(dims, vectors.shape[1]), random_state=seed)
        coords = pca.fit_transform(vectors)
        if coords.shape[1] < dims:  # a 1- or 2-dimensional space drawn in more axes
            coords = np.pad(coords, ((0, 0), (0, dims - coords.shape[1])))
        ratios = list(pca.explained_variance_ratio_) + [0.0] * dims
        return coords, [f"PC{i + 1} ({ratios[i]:.0%} of the variance)" for i in range(dims)]
    if method == "tsne":
        from sklearn.manifold import TSNE

        tsne = TSNE(dims, perplexity=min(30.0, (n - 1) / 3), init="pca", random_state=seed)
        return tsne.fit_transform(vectors), [f"t-SNE {i + 1}" for i in range(dims)]
    if method == "umap":
        import warnings

        import umap

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            reducer = umap.UMAP(
                n_components=dims, n_neighbors=min(15, n - 1), metric="cosine", random_state=seed
            )
            return reducer.fit_transform(vectors), [f"UMAP {i + 1}" for i in range(dims)]
    raise ValueError(f"Unknown projection {method!r}; choose pca, tsne or umap.")


def projection_figure(frame: pd.DataFrame, axes: list[str], title: str) -> go.Figure:
    dims = len(axes)
    scatter = go.Scatter3d if dims == 3 else go.Scatter
    fig = go.Figure()
    groups = [g for g in frame["group"].unique() if g != OTHER]
    for name in [OTHER, *groups]:
        part = frame[frame["group"] == name]
        if part.empty:
            continue
        coords = {"x": part["x"], "y": part["y"]} | ({"z": part["z"]} if dims == 3 else {})
        if name == OTHER:
            fig.add_trace(
                scatter(
                    **coords,
                    mode="markers",
                    name=f"{len(part)} {OTHER}",
                    marker=dict(size=4 if dims == 3 else 6, color="#b0b7bd", opacity=0.6),
                    text=part["word"],
                    hovertemplate="%{text}<extra></extra>",
                )
            )
        else:
            color = GROUP_COLORS[groups.index(name) % len(GROUP_COLORS)]
            fig.add_trace(
                scatter(
                    **coords,
                    mode="markers+text",
                    name=name,
                    text=part["word"],
                    textposition="top center",
                    marker=dict(size=7 if dims == 3 else 11, color=color),
                    hovertemplate="%{text}<extra></extra>",
                )
            )
    fig.update_layout(title=title, height=520, legend=dict(orientation="h", y=-0.12))
    if dims == 3:
        fig.update_layout(scene=dict(xaxis_title=axes[0], yaxis_title=axes[1], zaxis_title=axes[2]))
    else:
        fig.update_xaxes(title=axes[0])
        fig.update_yaxes(title=axes[1])
    return fig


def neighbours_frame(kv: KeyedVectors, word: str, k: int = 10) -> pd.DataFrame:
    rows = kv.most_similar(word, k=k)
    return pd.DataFrame(
        {
            "rank": range(1, len(rows) + 1),
            "word": [w for w, _ in rows],
            "cosine": [c for _, c in rows],
            "count": [int(kv.counts[kv.index(w)]) if kv.counts is not None else 0 for w, _ in rows],
        }
    )


def analogy_frame(kv: KeyedVectors, a: str, b: str, c: str, k: int = 5) -> pd.DataFrame:
    rows = kv.analogy(a, b, c, k=k)
    return pd.DataFrame(
        {
            "rank": range(1, len(rows) + 1),
            "answer": [w for w, _ in rows],
            "cosine": [s for _, s in rows],
        }
    )


# ---- evaluation and gensim -------------------------------------------------------------------------


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
    return train_gensim_reference(sentences, make_config(settings), workers=1)


def word2vec_text(kv: KeyedVectors) -> bytes:
    """The vectors in word2vec's text format (header 'V d', then 'word x1 ... xd' per line)."""
    lines = [f"{len(kv)} {kv.vectors.shape[1]}"]
    for word, vector in zip(kv.index_to_word, kv.vectors):
        lines.append(word + " " + " ".join(f"{x:.6f}" for x in vector))
    return ("\n".join(lines) + "\n").encode("utf-8")
