"""Held-out perplexity curves for the n-gram lesson: against the order, add-k's k and the discount.

Why separate: the page draws dozens of models; each point here re-smooths counts made once (NGramCounts) and
re-scores held-out n-gram ids looked up once (NGramLookup), so all smoothings x orders 1..5 on the Wikipedia
sample take about a second. Perplexity is inf for mle (some held-out n-gram has probability 0); stupid backoff
has no perplexity and is left out.
"""

from __future__ import annotations

import numpy as np

from models.ngrams.counts import NGramCounts, NGramLookup
from models.ngrams.model import NGramLM
from models.ngrams.smoothing import SMOOTHINGS

# every smoothing that is a distribution (stupid backoff is a score, so it has no perplexity)
CURVE_SMOOTHINGS = tuple(name for name in SMOOTHINGS if name != "stupid_backoff")


def _lookup(counts: NGramCounts, sentences) -> NGramLookup:
    return sentences if isinstance(sentences, NGramLookup) else counts.lookup_sentences(sentences)


def perplexity_by_order(
    counts: NGramCounts,
    heldout,
    smoothings=CURVE_SMOOTHINGS,
    orders=None,
    dev=None,
    k: float = 1.0,
    discount: float = 0.75,
) -> dict:
    """{"orders": [..], "perplexity": {smoothing: [per order]}, "lambdas": {order: flat weights}}.

    Interpolation weights are fitted by EM on `dev` (sentences or a lookup); without dev, on the held-out
    set itself, which flatters interpolation slightly (it has only order+1 free weights).
    """
    orders = list(range(1, counts.max_order + 1)) if orders is None else list(orders)
    heldout = _lookup(counts, heldout)
    dev = heldout if dev is None else _lookup(counts, dev)
    curves = {"orders": orders, "perplexity": {}, "lambdas": {}}
    for smoothing in smoothings:
        if smoothing == "stupid_backoff":
            continue
        row = []
        for order in orders:
            lm = NGramLM.from_counts(counts, heldout=dev, order=order, smoothing=smoothing, k=k, discount=discount)
            row.append(lm.perplexity(heldout))
            if smoothing == "interpolation":
                curves["lambdas"][order] = lm.lambdas.tolist()
        curves["perplexity"][smoothing] = row
    return curves


def perplexity_by_k(counts: NGramCounts, heldout, order: int = 3, ks=None) -> dict:
    """add_k's held-out perplexity for each k (log-spaced from 1e-4 to 1 by default)."""
    ks = list(np.logspace(-4, 0, 13)) if ks is None else list(ks)
    heldout = _lookup(counts, heldout)
    perplexity = [
        NGramLM.from_counts(counts, order=order, smoothing="add_k", k=float(k)).perplexity(heldout) for k in ks
    ]
    return {"k": [float(k) for k in ks], "perplexity": perplexity}


def perplexity_by_discount(
    counts: NGramCounts, heldout, order: int = 3, discounts=None, smoothing: str = "kneser_ney"
) -> dict:
    """Held-out perplexity of kneser_ney (or absolute_discounting) for each discount D in (0, 1]."""
    discounts = list(np.linspace(0.05, 1.0, 20)) if discounts is None else list(discounts)
    heldout = _lookup(counts, heldout)
    perplexity = [
        NGramLM.from_counts(counts, order=order, smoothing=smoothing, discount=float(d)).perplexity(heldout)
        for d in discounts
    ]
    return {"discount": [float(d) for d in discounts], "perplexity": perplexity}
