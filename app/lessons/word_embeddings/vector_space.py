"""The learned vector space: word lists, cosine matrices, 2D/3D projections, neighbours, analogies.

Tables and plotly figures for the One-hot vs dense and Train live tabs; no Streamlit calls here.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.express as px
import plotly.graph_objects as go

from models.text import tokenize_words
from models.word_embeddings.evaluation import KeyedVectors

PROJECTIONS = {"pca": "PCA", "tsne": "t-SNE", "umap": "UMAP"}
OTHER = "other frequent words"
GROUP_COLORS = px.colors.qualitative.D3


def parse_words(text: str) -> list[str]:
    """Typed words as the corpus spells them (NFKC, lowercase, punctuation dropped), each once."""
    return list(dict.fromkeys(tokenize_words(text)))


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


def projection_points(kv: KeyedVectors, groups: list[list[str]], top_n: int) -> tuple[pd.DataFrame, list[str]]:
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
    frame["count"] = [int(kv.counts[kv.index(w)]) if kv.counts is not None else 0 for w in frame.word]
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

        init = "pca" if vectors.shape[1] >= dims else "random"  # PCA init needs d >= dims
        tsne = TSNE(dims, perplexity=min(30.0, (n - 1) / 3), init=init, random_state=seed)
        return tsne.fit_transform(vectors), [f"t-SNE {i + 1}" for i in range(dims)]
    if method == "umap":
        import warnings

        try:
            import umap
        except ImportError as exc:  # an optional package
            raise ImportError(
                "UMAP needs the umap-learn package: pip install umap-learn (or pick PCA or t-SNE)."
            ) from exc

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            reducer = umap.UMAP(
                n_components=dims,
                n_neighbors=min(15, n - 1),
                metric="cosine",
                init="spectral" if n > dims + 2 else "random",  # spectral needs dims + 1 < n
                random_state=seed,
            )
            return reducer.fit_transform(vectors), [f"UMAP {i + 1}" for i in range(dims)]
    raise ValueError(f"Unknown projection {method!r}; choose pca, tsne or umap.")


def spaced_labels(x: np.ndarray, y: np.ndarray, min_gap: float = 0.06) -> np.ndarray:
    """Which points get a visible label: greedily, in order, a label only if no labelled point lies
    within min_gap of the plot's extent (x and y scaled to [0, 1]); the rest show on hover."""
    points = np.stack([x, y], axis=1).astype(float)  # (n, 2)
    span = np.ptp(points, axis=0)
    points = (points - points.min(axis=0)) / np.where(span > 0, span, 1.0)
    keep = np.zeros(len(points), dtype=bool)
    for i, point in enumerate(points):
        labelled = points[keep]
        gaps = np.abs(labelled - point)  # a label is wider than tall: twice the gap across
        keep[i] = not np.any((gaps[:, 0] < 2 * min_gap) & (gaps[:, 1] < min_gap))
    return keep


def projection_figure(frame: pd.DataFrame, axes: list[str], title: str) -> go.Figure:
    dims = len(axes)
    scatter = go.Scatter3d if dims == 3 else go.Scatter
    fig = go.Figure()
    groups = [g for g in frame["group"].unique() if g != OTHER]
    highlighted = frame["group"] != OTHER
    labelled = pd.Series(True, index=frame.index)
    if dims == 2 and highlighted.any():  # overlapping labels are left to the hover
        part = frame[highlighted]
        labelled[part.index] = spaced_labels(part["x"].to_numpy(), part["y"].to_numpy())
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
                    text=part["word"].where(labelled[part.index], ""),
                    customdata=part["word"],
                    textposition="top center",
                    marker=dict(size=7 if dims == 3 else 11, color=color),
                    hovertemplate="%{customdata}<extra></extra>",
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
