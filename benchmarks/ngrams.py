"""N-gram lesson benchmark: fit + held-out perplexity on the Wikipedia sample, ours against nltk.lm.

nltk.lm's Kneser-Ney recomputes continuation counts by scanning every higher-order n-gram for each score, so
scoring all ~48k held-out tokens would take hours: nltk's fit is timed in full, its scoring on the first
`nltk_tokens` held-out tokens, and the per-token time is extrapolated to the whole held-out set (said in `note`).
The same tokens are scored by our model with nltk's conventions (tests/models/nltk_conventions.py), and the largest
difference is reported.
Also: all smoothings x orders 1-5 curves (ours only) and scoring with kenlm from our ARPA file.
The models are numpy on the CPU; `device` is accepted for the common interface and ignored.
"""

from __future__ import annotations

import math
import os
import tempfile
import time

from models.corpora import load_corpus
from models.ngrams.counts import NGramCounts
from models.ngrams.curves import perplexity_by_order
from models.ngrams.model import NGramLM
from models.text import train_heldout_split

LESSON = "ngrams"


def _row(task, ours, reference, unit, note):
    ratio = None if reference is None or ours <= 0 else reference / ours
    return {
        "lesson": LESSON,
        "task": task,
        "ours": ours,
        "reference": reference,
        "unit": unit,
        "ratio": ratio,
        "note": note,
    }


def _heldout_tokens(heldout, order, limit):
    """(word, nltk context) for the first `limit` held-out tokens, with nltk's <s> padding."""
    out = []
    for sentence in heldout:
        padded = ["<s>"] * (order - 1) + list(sentence) + ["</s>"]
        for i in range(order - 1, len(padded)):
            out.append((padded[i], tuple(padded[i - order + 1 : i])))
            if len(out) == limit:
                return out
    return out


def _fit_and_score_ours(train, heldout, order):
    """(fit seconds, fit + perplexity seconds, perplexity) for our Kneser-Ney."""
    start = time.perf_counter()
    lm = NGramLM(order=order, smoothing="kneser_ney", discount=0.75).fit(train)
    fit_seconds = time.perf_counter() - start
    perplexity = lm.perplexity(heldout)
    return fit_seconds, time.perf_counter() - start, perplexity


def _nltk_kneser_ney(train, heldout, order, n_tokens):
    """(fit seconds, seconds per scored token, max |ours - nltk| on those tokens) or None."""
    try:
        from nltk.lm import KneserNeyInterpolated
        from nltk.lm.preprocessing import padded_everygram_pipeline
    except ImportError:
        return None
    start = time.perf_counter()
    reference = KneserNeyInterpolated(order, discount=0.75)
    reference.fit(*padded_everygram_pipeline(order, train))
    fit_seconds = time.perf_counter() - start
    tokens = _heldout_tokens(heldout, order, n_tokens)
    start = time.perf_counter()
    scores = [reference.score(word, context) for word, context in tokens]
    per_token = (time.perf_counter() - start) / len(tokens)
    from tests.models.nltk_conventions import nltk_model

    compat = nltk_model(train, order, smoothing="kneser_ney", discount=0.75)
    difference = max(abs(compat.prob(w, c) - s) for (w, c), s in zip(tokens, scores))
    return fit_seconds, per_token, difference, len(tokens)


def run(quick: bool = False, device: str = "cpu") -> list[dict]:
    train, heldout = train_heldout_split(load_corpus("wiki"), heldout_fraction=0.1, seed=0)
    if quick:
        train, heldout = train[:1500], heldout[:150]
    n_train = sum(len(s) for s in train)
    n_heldout = sum(len(s) + 1 for s in heldout)  # words + </s>
    corpus = f"wiki {n_train / 1000:.0f}k train words, {n_heldout / 1000:.1f}k held-out tokens"
    rows = []
    for order, nltk_tokens in ((3, 10 if quick else 40), (5, 5 if quick else 12)):
        our_fit, ours, perplexity = _fit_and_score_ours(train, heldout, order)
        measured = _nltk_kneser_ney(train, heldout, order, nltk_tokens)
        task = f"Kneser-Ney order {order}: fit + held-out perplexity"
        if measured is None:
            rows.append(_row(task, ours, None, "s", f"{corpus}; ppl {perplexity:.1f}; nltk missing"))
            continue
        fit_seconds, per_token, difference, n_scored = measured
        fit_task = f"Kneser-Ney order {order}: fit only (both measured in full)"
        rows.append(_row(fit_task, our_fit, fit_seconds, "s", f"{corpus}; nltk counts everygrams"))
        reference = fit_seconds + per_token * n_heldout
        note = (
            f"{corpus}; our ppl {perplexity:.1f}; nltk fit {fit_seconds:.1f}s measured, scoring "
            f"{per_token * 1e3:.0f} ms/token measured on {n_scored} tokens and extrapolated; "
            f"ours with nltk's conventions differ from nltk's probs by <= {difference:.1e}"
        )
        rows.append(_row(task, ours, reference, "s", note))

    start = time.perf_counter()
    counts = NGramCounts.from_sentences(train, max_order=5)
    curves = perplexity_by_order(counts, heldout)
    seconds = time.perf_counter() - start
    best = min(p for row in curves["perplexity"].values() for p in row if math.isfinite(p))
    rows.append(
        _row(
            "all smoothings x orders 1-5 curves (count once + 30 models)",
            seconds,
            None,
            "s",
            f"{corpus}; best held-out ppl {best:.1f}",
        )
    )
    rows.append(_kenlm_scoring(counts, heldout, n_heldout))
    return rows


def _kenlm_scoring(counts, heldout, n_heldout):
    """Score the held-out set with the same order-5 modified KN model: ours vs kenlm reading our ARPA."""
    lm = NGramLM.from_counts(counts, order=5, smoothing="modified_kneser_ney")
    start = time.perf_counter()
    ours_total = lm.evaluate(heldout)["log10_total"]
    ours = time.perf_counter() - start
    task = "modified KN order 5: score held-out (tokens/s)"
    try:
        import kenlm
    except ImportError:
        return _row(task, n_heldout / ours, None, "tokens/s", "kenlm missing")
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "model.arpa")
        lm.to_arpa(path)
        model = kenlm.Model(path)
        start = time.perf_counter()
        kenlm_total = sum(model.score(" ".join(s), bos=True, eos=True) for s in heldout)
        seconds = time.perf_counter() - start
    row = _row(
        task,
        n_heldout / ours,
        None,
        "tokens/s",
        f"kenlm (C++) on our ARPA file; log10 totals differ by {abs(ours_total - kenlm_total):.1e}",
    )
    row["reference"] = n_heldout / seconds
    row["ratio"] = row["ours"] / row["reference"]  # throughput: > 1 means ours is faster
    return row
