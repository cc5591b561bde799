"""Smoothing: turn n-gram counts (models/ngram_counts.py) into tables that score any word after any context.

The interpolated smoothings share one recursion over orders k = 1..n (Chen & Goodman 1998, section 2.7):

    p_k(w | h) = alpha_k(h w) + gamma_k(h) * p_{k-1}(w | h')      h' = h without its first word
    p_0(w)     = 1 / |V|   (uniform over the vocabulary: </s> and <unk> included, <s> excluded)

alpha_k is zero for (h, w) never seen; gamma_k(h) = 1 when h was never seen as a context, so the recursion
then falls straight through to the shorter context. With counts a and a discount D(a):

    alpha_k(h w) = max(a(h w) - D(a), 0) / sum_v a(h v)        gamma_k(h) = sum_v D(a(h v)) / sum_v a(h v)

- absolute_discounting: a = raw counts, one D (Ney, Essen & Kneser 1994).
- kneser_ney: a = raw counts at the highest order, continuation counts N1+(. h w) (distinct left words) below,
  except n-grams starting with <s>, which keep raw counts as in KenLM's lmplz (they cannot be extended left);
  one D (Kneser & Ney 1995, https://doi.org/10.1109/ICASSP.1995.479394).
- modified_kneser_ney: the same counts, three discounts D1, D2, D3+ per order from count-of-counts n_j:
  D_j = j - (j+1) Y n_{j+1} / n_j with Y = n_1 / (n_1 + 2 n_2) (Chen & Goodman eq. 26, as lmplz; Heafield et
  al. 2013, https://aclanthology.org/P13-2121). Where the estimate is out of [0, j] (tiny corpora) the order
  uses lmplz's --discount_fallback values 0.5, 1, 1.5.
- interpolation (Jelinek-Mercer): alpha_k = lambda_k c(h w) / c(h), gamma_k = 1 - lambda_k. Weights are given as
  flat weights (uniform, 1-gram, ..., n-gram) that sum to 1; lambda_k = flat_k / sum_{j<=k} flat_j, so a context
  never seen hands its weight down in proportion. EM fits them on held-out text (Jelinek & Mercer 1980).
Not interpolated: mle and add_k (Lidstone; k=1 is Laplace) use only the longest context, (c(h w) + k) / (c(h) +
k|V|); stupid_backoff (Brants et al. 2007, https://aclanthology.org/D07-1090) scores c(h w)/c(h) if seen, else
backoff * score(w | h'): a score that does not sum to 1.

nltk_compat (tests only) follows nltk.lm: <s> is part of the vocabulary, the unigram level is not discounted nor
mixed with the uniform distribution, and no <s> rule for Kneser-Ney.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from models.ngram_counts import BOS_ID, NGramCounts, NGramLookup

SMOOTHINGS = (
    "mle",
    "add_k",
    "interpolation",
    "absolute_discounting",
    "kneser_ney",
    "modified_kneser_ney",
    "stupid_backoff",
)
FALLBACK_DISCOUNTS = (0.5, 1.0, 1.5)  # lmplz --discount_fallback defaults for D1, D2, D3+


@dataclass
class SmoothingTables:
    """Per-order arrays from which score() computes p(w | h) for any batch of lookups."""

    kind: str  # "interpolated", "backoff" (stupid backoff) or "direct" (mle, add_k)
    order: int  # n
    predictable: np.ndarray  # (V,) bool: words that can be predicted (not <s>, unless nltk_compat)
    alpha: dict  # k -> (n_k,) interpolated: share of a seen n-gram; backoff: score; direct: count
    gamma: dict  # k -> (n_{k-1},) interpolated: back-off mass of a context; direct: its total count
    pseudo_count: float = 0.0  # direct: add_k's k (0 = mle)
    backoff: float = 0.4  # stupid backoff: multiplier per back-off step
    discounts: dict = field(default_factory=dict)  # k -> (D1, D2, D3+) of discounting smoothings
    fallback_orders: list = field(default_factory=list)  # orders where modified KN fell back

    @property
    def uniform(self) -> np.ndarray:  # (V,) p_0
        return self.predictable / self.predictable.sum()


def predictable_words(counts: NGramCounts) -> np.ndarray:
    mask = np.ones(len(counts.vocab), bool)
    if not counts.nltk_compat:
        mask[BOS_ID] = False
    return mask


def raw_counts(counts: NGramCounts, k: int) -> np.ndarray:
    """(n_k,) float counts; at order 1 <s> gets 0 (it is never predicted) unless nltk_compat."""
    a = counts.orders[k].counts.astype(np.float64)
    if k == 1 and not counts.nltk_compat:
        a[BOS_ID] = 0.0
    return a


def kneser_ney_counts(counts: NGramCounts, k: int, order: int) -> np.ndarray:
    """(n_k,) KenLM's adjusted counts: raw at the top order, distinct left words below."""
    if k == order:
        return raw_counts(counts, k)
    a = counts.continuation[k].astype(np.float64)
    if counts.nltk_compat:
        return a
    level = counts.orders[k]
    a = np.where(level.first_word == BOS_ID, level.counts, a)  # "<s> w ..." cannot extend left
    if k == 1:
        a[BOS_ID] = 0.0
    return a


def modified_discounts(a: np.ndarray) -> tuple[tuple[float, float, float], bool]:
    """(D1, D2, D3+) from the count-of-counts of adjusted counts a, and whether the fallback was used."""
    n = [int(np.sum(a == j)) for j in range(5)]  # n[j] = how many n-grams have count exactly j
    if min(n[1], n[2], n[3]) == 0:
        return FALLBACK_DISCOUNTS, True
    y = n[1] / (n[1] + 2 * n[2])
    d = tuple(j - (j + 1) * y * n[j + 1] / n[j] for j in (1, 2, 3))
    if not all(0.0 <= d[j - 1] <= j for j in (1, 2, 3)):
        return FALLBACK_DISCOUNTS, True
    return d, False


def discounted_level(counts, k, a, discounts) -> tuple[np.ndarray, np.ndarray]:
    """alpha (n_k,) and gamma (n_{k-1},) of one order for counts a and discounts (D1, D2, D3+)."""
    level = counts.orders[k]
    n_contexts = len(counts.orders[k - 1]) if k > 1 else 1
    # every n-gram seen in training hands its discount to gamma (nltk: even if its adjusted count is 0)
    seen = raw_counts(counts, k) > 0
    d = np.where(seen, np.asarray(discounts)[np.clip(a, 1, 3).astype(int) - 1], 0.0)  # (n_k,) D(a)
    total = np.bincount(level.context, weights=a, minlength=n_contexts)  # (n_{k-1},)
    safe = np.where(total > 0, total, 1.0)
    alpha = np.maximum(a - d, 0.0) / safe[level.context]
    handed_down = np.bincount(level.context, weights=d, minlength=n_contexts)  # (n_{k-1},)
    gamma = np.where(total > 0, handed_down / safe, 1.0)
    return alpha, gamma


def recursive_lambdas(flat) -> np.ndarray:
    """Flat weights (uniform, 1-gram, ..., n-gram) -> lambda_k = flat_k / sum_{j<=k} flat_j, k = 1..n."""
    flat = np.asarray(flat, dtype=np.float64)
    below = np.cumsum(flat)
    return np.where(below > 0, flat / np.where(below > 0, below, 1.0), 0.0)[1:]


def flat_lambdas(recursive) -> np.ndarray:
    """Inverse of recursive_lambdas: the weight each order gets for a context seen at every order."""
    flat, remaining = np.zeros(len(recursive) + 1), 1.0
    for k in range(len(recursive), 0, -1):
        flat[k] = remaining * recursive[k - 1]
        remaining *= 1.0 - recursive[k - 1]
    flat[0] = remaining
    return flat


def build_tables(
    counts: NGramCounts, smoothing, order, k=1.0, discount=0.75, lambdas=None, backoff=0.4
) -> SmoothingTables:
    """Tables for one smoothing; `lambdas` are flat interpolation weights (order + 1 of them)."""
    if smoothing in ("mle", "add_k"):
        tables = SmoothingTables("direct", order, predictable_words(counts), {}, {})
        tables.pseudo_count = 0.0 if smoothing == "mle" else float(k)
        for n in range(1, order + 1):
            level = counts.orders[n]
            tables.alpha[n] = raw_counts(counts, n)
            n_contexts = len(counts.orders[n - 1]) if n > 1 else 1
            tables.gamma[n] = np.bincount(
                level.context, weights=tables.alpha[n], minlength=n_contexts
            )
        return tables
    kind = "backoff" if smoothing == "stupid_backoff" else "interpolated"
    tables = SmoothingTables(kind, order, predictable_words(counts), {}, {}, backoff=float(backoff))
    lambda_k = recursive_lambdas(lambdas) if smoothing == "interpolation" else None
    for n in range(1, order + 1):
        level = counts.orders[n]
        n_contexts = len(counts.orders[n - 1]) if n > 1 else 1
        if smoothing in ("stupid_backoff", "interpolation"):
            a = raw_counts(counts, n)
            total = np.bincount(level.context, weights=a, minlength=n_contexts)
            safe = np.where(total > 0, total, 1.0)
            tables.alpha[n] = a / safe[level.context]
            if smoothing == "interpolation":
                tables.alpha[n] *= lambda_k[n - 1]
                tables.gamma[n] = np.where(total > 0, 1.0 - lambda_k[n - 1], 1.0)
            continue
        if smoothing == "absolute_discounting":
            a, d = raw_counts(counts, n), (discount,) * 3
        elif smoothing == "kneser_ney":
            a, d = kneser_ney_counts(counts, n, order), (discount,) * 3
        else:  # modified_kneser_ney
            a = kneser_ney_counts(counts, n, order)
            d, fell_back = modified_discounts(a)
            if fell_back:
                tables.fallback_orders.append(n)
        if n == 1 and counts.nltk_compat:
            d = (0.0, 0.0, 0.0)  # nltk: the unigram level is not discounted nor mixed with uniform
        tables.discounts[n] = tuple(float(x) for x in d)
        tables.alpha[n], tables.gamma[n] = discounted_level(counts, n, a, d)
    return tables


def take(values: np.ndarray, ids: np.ndarray, default: float = 0.0) -> np.ndarray:
    """values[ids] where ids >= 0, else default (values may be empty: an order with no n-grams)."""
    if len(values) == 0:
        return np.full(len(ids), default, dtype=np.float64)
    return np.where(ids >= 0, values[np.maximum(ids, 0)], default)


def score(tables: SmoothingTables, lookup: NGramLookup) -> np.ndarray:
    """(T,) p(w | h) (or the stupid-backoff score) of every token of the lookup."""
    words = lookup.words
    p = tables.uniform[words] if tables.kind == "interpolated" else np.zeros(len(words))
    for k in range(1, tables.order + 1):
        ngram, context = lookup.ngram_ids[k], lookup.context_ids[k]
        own = take(tables.alpha[k], ngram)
        if tables.kind == "interpolated":
            share = take(tables.gamma[k], context, default=1.0)
            p = own + share * p
        elif tables.kind == "backoff":
            p = np.where(own > 0, own, np.where(lookup.has_context[k], tables.backoff * p, p))
        else:
            total = take(tables.gamma[k], context)
            n_words, pseudo = tables.predictable.sum(), tables.pseudo_count
            if pseudo > 0:
                estimate = (own + pseudo) / (total + pseudo * n_words)
            else:
                estimate = np.where(total > 0, own / np.where(total > 0, total, 1.0), 0.0)
            p = np.where(lookup.has_context[k], estimate, p)
    return p * tables.predictable[words]


def fit_interpolation_weights(counts, order, lookup, iterations=1000, tol=1e-9) -> np.ndarray:
    """EM for Jelinek-Mercer weights on held-out tokens; returns flat weights (uniform, 1-gram, ...).

    Each order k is a two-way choice, "use my MLE" (lambda_k) or "hand down" (1 - lambda_k), skipped when its
    context was never seen. E-step: the posterior share of each choice per token; M-step: their ratio.
    """
    words, tables = lookup.words, build_tables(counts, "mle", order)
    uniform = tables.uniform[words]
    ml, active = [uniform], [np.ones(len(words), bool)]  # per order: (T,) MLE, (T,) context seen
    for k in range(1, order + 1):
        own = take(tables.alpha[k], lookup.ngram_ids[k])
        total = take(tables.gamma[k], lookup.context_ids[k])
        active.append(total > 0)
        ml.append(np.where(total > 0, own / np.where(total > 0, total, 1.0), 0.0))
    lam = np.full(order + 1, 0.5)  # lam[k] for k >= 1
    for _ in range(iterations):
        p = [uniform]
        for k in range(1, order + 1):
            mixed = lam[k] * ml[k] + (1 - lam[k]) * p[k - 1]
            p.append(np.where(active[k], mixed, p[k - 1]))
        new, responsibility = lam.copy(), np.ones(len(words))
        for k in range(order, 0, -1):
            chose = np.where(active[k], responsibility * lam[k] * ml[k] / p[k], 0.0)
            reached = np.where(active[k], responsibility, 0.0).sum()
            if reached > 0:
                new[k] = np.clip(chose.sum() / reached, 1e-6, 1 - 1e-6)
            responsibility = responsibility - chose
        converged = np.max(np.abs(new - lam)) < tol
        lam = new
        if converged:
            break
    return flat_lambdas(lam[1:])
