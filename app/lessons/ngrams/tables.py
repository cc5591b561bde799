"""Tables (and the coloured sentence) for the n-gram lesson's tabs. No Streamlit here.

Each helper takes fitted models or counts (models/ngram*.py) and returns a pandas frame or text,
so the tabs only wire widgets, caching and error handling.
"""

from __future__ import annotations

import html
import math

import numpy as np
import pandas as pd

from app.lessons.ngrams.labels import SHORT, shown
from models.ngrams.counts import BOS, BOS_ID, EOS, UNK, NGramCounts
from models.ngrams.model import NGramLM, TokenScore

# ---- counts and smoothing side by side -----------------------------------------------------------


def side_by_side(models: dict[str, NGramLM], context: list[str], top: int, extra: list[str] = ()) -> dict:
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
        "(sentence start)" if left[i] == BOS_ID else counts.vocab[left[i]] if left[i] >= 0 else "" for i in ids
    ]
    frame["top left share"] = best[ids] / frame["count"].to_numpy()
    return frame


def largest_gaps(frame: pd.DataFrame, min_count: int, top: int) -> pd.DataFrame:
    """Frequent words with few distinct left neighbours: the "Francisco" words."""
    common = frame[(frame["count"] >= min_count) & (frame["word"] != UNK)]
    return common.sort_values("count per left word", ascending=False).head(top)


def left_neighbours(counts: NGramCounts, word: str, top: int) -> pd.DataFrame:
    """The words seen right before `word` in training, most frequent first."""
    if word not in counts.word_to_id:
        raise ValueError(f"'{word}' is not in this corpus's vocabulary; try a word from the table.")
    bigrams, word_id = counts.orders[2], counts.word_to_id[word]
    rows = np.flatnonzero(bigrams.word == word_id)
    rows = rows[np.argsort(-bigrams.counts[rows], kind="stable")][:top]
    left = ["(sentence start)" if c == BOS_ID else counts.vocab[c] for c in bigrams.context[rows]]
    return pd.DataFrame({"left word": left, "count": bigrams.counts[rows]})


# ---- perplexity curves ---------------------------------------------------------------------------


def order_curve_frame(curves: dict) -> pd.DataFrame:
    frame = pd.DataFrame({"order": curves["orders"]})
    for name, row in curves["perplexity"].items():
        frame[SHORT[name]] = row
    return frame


def lambda_frame(lambdas: dict) -> pd.DataFrame:
    rows = []
    for order, weights in sorted(lambdas.items()):
        for j, w in enumerate(weights):
            rows.append({"model order": order, "part": "uniform" if j == 0 else f"{j}-gram", "weight": w})
    return pd.DataFrame(rows)


# ---- scoring a sentence and generating -----------------------------------------------------------


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
        title = f"{score_word} {row[1]:.3g}, log10 {log10_p:.2f}; longest n-gram found: {row[3]}-gram" + (
            " (out of vocabulary, scored as <unk>)" if oov else ""
        )
        spans.append(
            f"<span title='{html.escape(title, quote=True)}' style='background:"
            f"{_background(log10_p)};color:{color};border:{border};padding:2px 5px;margin:2px;border-radius:4px;"
            f"display:inline-block;font-family:monospace'>{html.escape(row[0])}{tag}"
            f"<br><small>{'−∞' if not math.isfinite(log10_p) else f'{log10_p:.1f}'}"
            f" · {row[3]}g</small></span>"
        )
    return "".join(spans)


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


# ---- the vocabulary cut --------------------------------------------------------------------------


def comparison_frame(current: dict, pins: list[dict], same_vocabulary) -> pd.DataFrame:
    """The current model and each pinned one; `same_vocabulary(vocab_a, vocab_b)` says comparable.
    Perplexity is NaN where it is not defined (stupid backoff)."""
    rows = [("now", current, True)] + [
        (f"📌 {p['label']}", p["payload"], same_vocabulary(p["payload"]["vocab"], current["vocab"])) for p in pins
    ]
    columns = ["model", "held-out perplexity", "vocabulary size", "<unk> rate", "same vocabulary"]
    return pd.DataFrame(
        [
            (label, math.nan if m["perplexity"] is None else m["perplexity"], m["vocab_size"]) + (m["unk_rate"], same)
            for label, m, same in rows
        ],
        columns=columns,
    )
