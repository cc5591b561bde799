"""Tables and plotly figures for the n-gram smoothing lesson (pages/ngrams.py). No Streamlit calls here.

Each helper takes fitted models or counts (models/ngram*.py) and returns a pandas frame or a figure, so the page
only wires widgets, caching and error handling.
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from models.ngram import NGramConfig, NGramLM, TokenScore
from models.ngram_counts import BOS, BOS_ID, EOS, UNK, NGramCounts, NGramLookup
from models.ngram_curves import perplexity_by_discount, perplexity_by_k
from models.ngram_smoothing import SMOOTHINGS
from models.text import train_heldout_split

MAX_ORDER = 5  # counted once up to this order; every model re-smooths these counts
DISCOUNTS = (0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95, 1.0)
SWEEP_MIN_COUNTS = (1, 2, 3, 5, 10, 20)

TITLES = {  # smoothing -> what the page calls it
    "mle": "MLE (no smoothing)",
    "add_k": "add-k (Laplace at k = 1)",
    "interpolation": "Jelinek-Mercer interpolation",
    "absolute_discounting": "absolute discounting",
    "kneser_ney": "Kneser-Ney",
    "modified_kneser_ney": "modified Kneser-Ney",
    "stupid_backoff": "stupid backoff (a score, not a probability)",
}
CHOICES = {  # the smoothing menu (and its URL value) -> smoothing
    "MLE": "mle",
    "add-k": "add_k",
    "Jelinek-Mercer": "interpolation",
    "absolute discounting": "absolute_discounting",
    "Kneser-Ney": "kneser_ney",
    "modified Kneser-Ney": "modified_kneser_ney",
    "stupid backoff": "stupid_backoff",
}
SHORT = {  # smoothing -> column and legend name
    "mle": "MLE",
    "add_k": "add-k",
    "interpolation": "interpolation",
    "absolute_discounting": "abs. discounting",
    "kneser_ney": "Kneser-Ney",
    "modified_kneser_ney": "modified KN",
    "stupid_backoff": "stupid backoff (score)",
}
COLORS = {
    "mle": "#6c757d",
    "add_k": "#e76f51",
    "interpolation": "#f4a261",
    "absolute_discounting": "#8ab17d",
    "kneser_ney": "#2a9d8f",
    "modified_kneser_ney": "#264653",
    "stupid_backoff": "#b5838d",
}


@dataclass(frozen=True)
class Data:
    """A corpus split into train and held-out parts, counted once up to MAX_ORDER."""

    key: str  # corpus, split and vocabulary cut: the cache key of everything computed from it
    label: str
    train: list
    heldout: list
    counts: NGramCounts
    heldout_lookup: NGramLookup  # held-out n-gram ids up to MAX_ORDER, looked up once


def split_and_count(key, label, sentences, fraction, seed, min_count) -> Data:
    train, heldout = train_heldout_split(sentences, fraction, seed)
    counts = NGramCounts.from_sentences(train, MAX_ORDER, min_count)
    return Data(key, label, train, heldout, counts, counts.lookup_sentences(heldout))


def build_models(data: Data, config: NGramConfig, lambdas: dict) -> dict[str, NGramLM]:
    """Every smoothing over the same counts, order, k and discount (interpolation: the EM weights)."""
    return {
        name: NGramLM.from_counts(
            data.counts,
            config=config,
            smoothing=name,
            lambdas=tuple(lambdas[config.order]) if name == "interpolation" else None,
        )
        for name in SMOOTHINGS
    }


def hyperparameter_curves(data: Data, order: int) -> dict:
    """Held-out perplexity against add-k's k, and against D for Kneser-Ney and absolute discounting."""
    counts, lookup = data.counts, data.heldout_lookup
    return {
        "k": perplexity_by_k(counts, lookup, order=order),
        "discount": list(DISCOUNTS),
        **{
            name: perplexity_by_discount(counts, lookup, order, DISCOUNTS, name)["perplexity"]
            for name in ("kneser_ney", "absolute_discounting")
        },
    }


def vocabulary_sweep(data: Data, config: NGramConfig) -> pd.DataFrame:
    """Recount with each min_count: vocabulary size, held-out <unk> rate and perplexity."""
    rows = []
    for min_count in SWEEP_MIN_COUNTS:
        counts = NGramCounts.from_sentences(data.train, config.order, min_count)
        lm = NGramLM.from_counts(counts, heldout=data.heldout, config=config)
        rows.append(
            {
                "min_count": min_count,
                "vocabulary size": len(counts.vocab),
                "<unk> rate": counts.unk_rate(data.heldout),
                "held-out perplexity": lm.perplexity(data.heldout),
            }
        )
    return pd.DataFrame(rows)


def shown(word: str) -> str:
    """A token as the page writes it: </s> is the end of the sentence."""
    return "⟨end⟩" if word == EOS else word


# ---- counts and smoothing side by side -----------------------------------------------------------


def side_by_side(
    models: dict[str, NGramLM], context: list[str], top: int, extra: list[str] = ()
) -> dict:
    """The top next words after `context` with each smoothing's probability, and where the mass went.

    Returns {"used": the context words the models read, "context_count": c(h), "oov": context words outside
    the vocabulary, "table": frame (word, count, one column per smoothing), "mass": frame per smoothing
    (seen, unseen, total)}.
    """
    any_lm = next(iter(models.values()))
    counts, order = any_lm.counts, any_lm.config.order
    used = list(counts.usable_context(context, order))
    next_counts = {w: c for w, c in any_lm.next_word_counts(used).items() if w != BOS}
    reference = "kneser_ney" if "kneser_ney" in models else next(iter(models))
    dists = {name: lm.distribution(used) for name, lm in models.items()}
    if next_counts:
        words = list(next_counts)[:top]
    else:  # a context never seen: rank by the reference smoothing instead
        ranked = np.argsort(-dists[reference], kind="stable")
        words = [counts.vocab[i] for i in ranked[:top] if i != BOS_ID]
    for word in extra:
        if word not in words:
            words.append(word)
    ids = counts.word_ids(words)
    table = pd.DataFrame(
        {
            "next word": [shown(w) for w in words],
            "count c(h w)": [next_counts.get(w, 0) for w in words],
        }
    )
    table["in vocabulary"] = [w in counts.word_to_id for w in words]
    for name, dist in dists.items():
        table[SHORT[name]] = dist[ids]
    seen_ids = counts.word_ids([w for w in next_counts])
    mass = []
    for name, lm in models.items():
        unseen = lm.unseen_mass(used)
        seen = float(dists[name][seen_ids].sum()) if len(seen_ids) else 0.0
        mass.append(
            {
                "smoothing": SHORT[name],
                "key": name,
                "to words seen after the context": seen,
                "to words never seen after it": unseen,
                "total": seen + unseen,
                "is a probability": lm.is_distribution,
            }
        )
    oov = [w for w in used if w not in counts.word_to_id]
    return {
        "used": used,
        "context_count": int(sum(next_counts.values())),
        "oov": oov,
        "table": table,
        "mass": pd.DataFrame(mass),
        "order": order,
    }


def next_word_bars(table: pd.DataFrame, smoothings: list[str], log_y: bool) -> go.Figure:
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
        barmode="group",
        height=420,
        xaxis_title="next word",
        yaxis_title="p(word | context)  (stupid backoff: score)",
        legend=dict(orientation="h", y=1.15),
    )
    if log_y:
        fig.update_yaxes(type="log")
    return fig


def mass_bars(mass: pd.DataFrame) -> go.Figure:
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
        barmode="stack",
        height=380,
        yaxis_title="total over the vocabulary",
        legend=dict(orientation="h", y=1.18),
    )
    return fig


# ---- Kneser-Ney's idea ---------------------------------------------------------------------------


def continuation_frame(counts: NGramCounts) -> pd.DataFrame:
    """Per word: count, distinct left words, their ratio, unigram vs continuation probability, and its
    most frequent left neighbour (with that neighbour's share of the word's occurrences)."""
    rows = [r for r in counts.continuation_table() if r[0] != EOS]
    frame = pd.DataFrame(rows, columns=["word", "count", "distinct left words"])
    frame["count per left word"] = frame["count"] / frame["distinct left words"].clip(lower=1)
    frame["p unigram"] = frame["count"] / frame["count"].sum()
    frame["p continuation"] = frame["distinct left words"] / frame["distinct left words"].sum()
    # the most frequent left neighbour of each word, from the bigram counts
    bigrams = counts.orders[2]
    best = np.zeros(len(counts.vocab), np.int64)  # (V,) count of the top left word
    left = np.full(len(counts.vocab), -1, np.int64)  # (V,) its id
    by_word = np.lexsort((-bigrams.counts, bigrams.word))  # by word, then most frequent first
    words, first = np.unique(bigrams.word[by_word], return_index=True)
    best[words] = bigrams.counts[by_word[first]]
    left[words] = bigrams.context[by_word[first]]
    ids = counts.word_ids(frame["word"])
    frame["top left word"] = [
        "(sentence start)" if left[i] == BOS_ID else counts.vocab[left[i]] if left[i] >= 0 else ""
        for i in ids
    ]
    frame["top left share"] = best[ids] / frame["count"].to_numpy()
    return frame


def largest_gaps(frame: pd.DataFrame, min_count: int, top: int) -> pd.DataFrame:
    """Frequent words with few distinct left neighbours: the "Francisco" words."""
    common = frame[(frame["count"] >= min_count) & (frame["word"] != UNK)]
    return common.sort_values("count per left word", ascending=False).head(top)


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
            colorbar=dict(title="log10 count<br>per left word"),
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
    fig.update_xaxes(type="log", dtick=1, title="count in training (what a unigram model uses)")
    fig.update_yaxes(type="log", dtick=1, title="distinct left words (what Kneser-Ney uses)")
    fig.update_layout(height=480, legend=dict(orientation="h", y=1.1))
    return fig


def left_neighbours(counts: NGramCounts, word: str, top: int) -> pd.DataFrame:
    """The words seen right before `word` in training, most frequent first."""
    if word not in counts.word_to_id:
        raise ValueError(f"'{word}' is not in this corpus's vocabulary; try a word from the table.")
    bigrams, word_id = counts.orders[2], counts.word_to_id[word]
    rows = np.flatnonzero(bigrams.word == word_id)
    rows = rows[np.argsort(-bigrams.counts[rows], kind="stable")][:top]
    left = ["(sentence start)" if c == BOS_ID else counts.vocab[c] for c in bigrams.context[rows]]
    return pd.DataFrame({"left word": left, "count": bigrams.counts[rows]})


def left_neighbour_bars(frame: pd.DataFrame, word: str) -> go.Figure:
    fig = go.Figure(go.Bar(x=frame["left word"], y=frame["count"], marker_color="#2a9d8f"))
    fig.update_layout(
        height=300, xaxis_title=f"word before '{word}'", yaxis_title="count", showlegend=False
    )
    return fig


# ---- perplexity curves ---------------------------------------------------------------------------


def order_curve_frame(curves: dict) -> pd.DataFrame:
    frame = pd.DataFrame({"order": curves["orders"]})
    for name, row in curves["perplexity"].items():
        frame[SHORT[name]] = row
    return frame


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
    fig.update_yaxes(type="log", title="held-out perplexity (log scale)")
    fig.update_layout(height=420, legend=dict(orientation="h", y=1.15))
    return fig


def sweep_figure(
    x: list[float], y: list[float], x_title: str, current: float, log_x: bool, names: list[str]
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
    fig.update_xaxes(title=x_title, type="log" if log_x else "linear")
    fig.update_yaxes(title="held-out perplexity")
    fig.update_layout(height=360, legend=dict(orientation="h", y=1.15))
    return fig


def lambda_frame(lambdas: dict) -> pd.DataFrame:
    rows = []
    for order, weights in sorted(lambdas.items()):
        for j, w in enumerate(weights):
            rows.append(
                {"model order": order, "part": "uniform" if j == 0 else f"{j}-gram", "weight": w}
            )
    return pd.DataFrame(rows)


def lambda_bars(frame: pd.DataFrame) -> go.Figure:
    fig = go.Figure()
    palette = ["#adb5bd", "#8ecae6", "#219ebc", "#2a9d8f", "#264653", "#e9c46a"]
    for j, part in enumerate(dict.fromkeys(frame["part"])):
        rows = frame[frame["part"] == part]
        fig.add_bar(x=rows["model order"], y=rows["weight"], name=part, marker_color=palette[j % 6])
    fig.update_layout(
        barmode="stack",
        height=360,
        xaxis=dict(title="interpolated model of order n", dtick=1),
        yaxis_title="EM weight",
        legend=dict(orientation="h", y=1.15),
    )
    return fig


# ---- scoring a sentence --------------------------------------------------------------------------


def score_frame(scores: list[TokenScore]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "token": [shown(t.word) for t in scores],
            "p": [t.prob for t in scores],
            "log10 p": [t.logprob / math.log(10) for t in scores],
            "order found": [t.order_used for t in scores],
            "out of vocabulary": [t.is_oov for t in scores],
        }
    )


def _background(log10_p: float) -> str:
    """Green for likely tokens, red for unlikely ones (log10 p from 0 down to -6), dark red for 0."""
    if not math.isfinite(log10_p):
        return "#9d0208"
    t = min(max(-log10_p / 6.0, 0.0), 1.0)
    good, bad = np.array([183, 228, 199]), np.array([248, 150, 130])
    r, g, b = (good + t * (bad - good)).astype(int)
    return f"rgb({r},{g},{b})"


def token_html(frame: pd.DataFrame, score_word: str) -> str:
    """The sentence as coloured spans; hover for p and the order found; OOV tokens dashed and tagged."""
    spans = []
    for row in frame.itertuples(index=False):
        log10_p, oov = row[2], row[4]
        border = "2px dashed #000" if oov else "1px solid transparent"
        color = "#000" if math.isfinite(log10_p) else "#fff"  # white on the dark red of p = 0
        tag = "<sub style='font-size:0.65em'>&lt;unk&gt;</sub>" if oov else ""
        title = (
            f"{score_word} {row[1]:.3g}, log10 {log10_p:.2f}; longest n-gram found: "
            f"{row[3]}-gram" + (" (out of vocabulary, scored as <unk>)" if oov else "")
        )
        spans.append(
            f"<span title='{html.escape(title, quote=True)}' style='background:"
            f"{_background(log10_p)};color:{color};border:{border};padding:2px 5px;margin:2px;border-radius:4px;"
            f"display:inline-block;font-family:monospace'>{html.escape(row[0])}{tag}"
            f"<br><small>{'−∞' if not math.isfinite(log10_p) else f'{log10_p:.1f}'}"
            f" · {row[3]}g</small></span>"
        )
    return "".join(spans)


def token_bars(frame: pd.DataFrame, order: int, score_word: str) -> go.Figure:
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
                hovertemplate="%{x}<br>log10 "
                + ("−∞" if is_zero else "%{y:.2f}")
                + "<extra></extra>",
            )
    fig.update_layout(
        height=340,
        yaxis_title=f"log10 {score_word}",
        xaxis=dict(categoryorder="array", categoryarray=labels),
        legend=dict(orientation="h", y=1.18, title="longest n-gram in training:"),
    )
    return fig


def number(value: float | None, digits: int = 1) -> str:
    """A perplexity or log-probability as the page writes it: ∞, −∞, or not defined (None)."""
    if value is None:
        return "not defined"
    if math.isinf(value):
        return "∞" if value > 0 else "−∞"
    return f"{value:,.{digits}f}"


# ---- the vocabulary cut --------------------------------------------------------------------------


def vocabulary_sweep_figure(frame: pd.DataFrame) -> go.Figure:
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
        height=380,
        xaxis=dict(
            title="min_count (words seen fewer times become <unk>)",
            type="log",
            tickvals=list(frame["min_count"]),
        ),
        yaxis=dict(title="held-out perplexity"),
        yaxis2=dict(title="<unk> rate", overlaying="y", side="right", tickformat=".0%"),
        legend=dict(orientation="h", y=1.15),
    )
    return fig


def generated_text(words: list[str]) -> str:
    """Generated tokens as text: each </s> ends a line."""
    lines, line = [], []
    for w in words:
        if w == EOS:
            lines.append(" ".join(line) + " ⏎")
            line = []
        else:
            line.append(w)
    if line:
        lines.append(" ".join(line))
    return "\n\n".join(lines)


def frequent_contexts(counts: NGramCounts, length: int, top: int = 6) -> list[str]:
    """The most frequent runs of `length` words in training (no sentence boundaries), as text."""
    if length < 1 or length > counts.max_order:
        return []
    level = counts.orders[length]
    out = []
    for i in np.argsort(-level.counts, kind="stable"):
        words, ngram_id = [], int(i)
        for k in range(length, 0, -1):  # walk the context ids back to the first word
            words.append(counts.vocab[int(counts.orders[k].word[ngram_id])])
            ngram_id = int(counts.orders[k].context[ngram_id])
        if any(w in (BOS, EOS, UNK) for w in words):
            continue
        out.append(" ".join(reversed(words)))
        if len(out) == top:
            break
    return out


def pin_payload(data: Data, config: NGramConfig, perplexity: float | None, unk_rate: float) -> dict:
    """What a pinned model keeps: enough to compare perplexities, and its vocabulary to check it."""
    return {
        "perplexity": perplexity,
        "order": config.order,
        "vocab_size": len(data.counts.vocab),
        "unk_rate": unk_rate,
        "vocab": tuple(data.counts.vocab),
    }


def comparison_frame(current: dict, pins: list[dict], same_vocabulary) -> pd.DataFrame:
    """The current model and each pinned one; `same_vocabulary(vocab_a, vocab_b)` says comparable.
    Perplexity is NaN where it is not defined (stupid backoff)."""
    rows = [("now", current, True)] + [
        (f"📌 {p['label']}", p["payload"], same_vocabulary(p["payload"]["vocab"], current["vocab"]))
        for p in pins
    ]
    columns = ["model", "held-out perplexity", "vocabulary size", "<unk> rate", "same vocabulary"]
    return pd.DataFrame(
        [
            (label, math.nan if m["perplexity"] is None else m["perplexity"], m["vocab_size"])
            + (m["unk_rate"], same)
            for label, m, same in rows
        ],
        columns=columns,
    )
