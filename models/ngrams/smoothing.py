"""Smoothing: turn n-gram counts (models/ngrams/counts.py) into tables that score any word after any context.

One class or function per smoothing, in the order of SMOOTHINGS (Chen & Goodman 1998,
https://arxiv.org/abs/cmp-lg/9606011; Jurafsky & Martin, SLP3 chapter 3):

- mle and add_k (Lidstone; k = 1 is Laplace) use only the longest context: (c(h w) + k) / (c(h) + k|V|).
- The interpolated smoothings share one recursion over orders k = 1..n (Chen & Goodman, section 2.7):

      p_k(w | h) = alpha_k(h w) + gamma_k(h) * p_{k-1}(w | h')      h' = h without its first word
      p_0(w)     = 1 / |V|   (uniform over the predicted words: </s> and <unk> included, <s> excluded)

  alpha_k is zero for (h, w) never seen; gamma_k(h) = 1 when h was never seen as a context, so the recursion
  then falls straight through to the shorter context. With counts a and a discount D(a):

      alpha_k(h w) = max(a(h w) - D(a), 0) / sum_v a(h v)      gamma_k(h) = sum_v D(a(h v)) / sum_v a(h v)

  - interpolation (Jelinek-Mercer): alpha_k = lambda_k c(h w) / c(h), gamma_k = 1 - lambda_k. Weights are
    flat weights (uniform, 1-gram, ..., n-gram) that sum to 1; lambda_k = flat_k / sum_{j<=k} flat_j, so a
    context never seen hands its weight down in proportion. EM fits them on held-out text (Jelinek & Mercer
    1980).
  - absolute_discounting: a = raw counts, one D (Ney, Essen & Kneser 1994).
  - kneser_ney: a = raw counts at the highest order, continuation counts N1+(. h w) (distinct left words)
    below, except n-grams starting with <s>, which keep raw counts as in KenLM's lmplz (they cannot be
    extended left); one D (Kneser & Ney 1995, https://doi.org/10.1109/ICASSP.1995.479394).
  - modified_kneser_ney: the same counts, three discounts D1, D2, D3+ per order from count-of-counts n_j:
    D_j = j - (j+1) Y n_{j+1} / n_j with Y = n_1 / (n_1 + 2 n_2) (Chen & Goodman eq. 26, as lmplz; Heafield
    et al. 2013, https://aclanthology.org/P13-2121). Where the estimate is out of [0, j] (tiny corpora) the
    order uses lmplz's --discount_fallback values 0.5, 1, 1.5.
- stupid_backoff (Brants et al. 2007, https://aclanthology.org/D07-1090) scores c(h w)/c(h) if seen, else
  backoff * score(w | h'): a score that does not sum to 1.

Which words are predicted, and the counts Kneser-Ney uses, are the counts' conventions (KenLM's:
NGramCounts.predictable_words and adjusted_counts). Each table is one array per order, so scoring a whole
held-out set is a few numpy passes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from models.ngrams.counts import NGramCounts, NGramLookup

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


def take(values: np.ndarray, ids: np.ndarray, default: float = 0.0) -> np.ndarray:
    """values[ids] where ids >= 0, else default (values may be empty: an order with no n-grams)."""
    if len(values) == 0:
        return np.full(len(ids), default, dtype=np.float64)
    return np.where(ids >= 0, values[np.maximum(ids, 0)], default)


def context_totals(counts: NGramCounts, k: int, a: np.ndarray) -> np.ndarray:
    """(n_{k-1},) sum_v a(h v) for every context h of order k (order 1: one empty context)."""
    n_contexts = len(counts.orders[k - 1]) if k > 1 else 1
    return np.bincount(counts.orders[k].context, weights=a, minlength=n_contexts)


def safe(total: np.ndarray) -> np.ndarray:
    """total with zeros replaced by 1, to divide by (the caller masks those entries)."""
    return np.where(total > 0, total, 1.0)


# ---- mle and add-k: the longest context only -----------------------------------------------------


@dataclass
class AddK:
    """p(w | h) = (c(h w) + k) / (c(h) + k |V|) for the longest context h available; k = 0 is mle."""

    order: int  # n
    predictable: np.ndarray  # (V,) bool: words that can be predicted
    counts: dict  # k -> (n_k,) c(h w)
    totals: dict  # k -> (n_{k-1},) c(h) = sum_v c(h v)
    pseudo_count: float  # add_k's k (0 = mle)

    @classmethod
    def from_counts(cls, counts: NGramCounts, order: int, pseudo_count: float) -> AddK:
        raw = {k: counts.raw_counts(k) for k in range(1, order + 1)}
        totals = {k: context_totals(counts, k, a) for k, a in raw.items()}
        return cls(order, counts.predictable_words(), raw, totals, float(pseudo_count))

    def score(self, lookup: NGramLookup) -> np.ndarray:
        """(T,) p(w | h) of every token of the lookup."""
        k, n_words = self.pseudo_count, self.predictable.sum()
        p = np.zeros(len(lookup.words))
        for n in range(1, self.order + 1):  # the longest context available wins
            own = take(self.counts[n], lookup.ngram_ids[n])  # (T,) c(h w)
            total = take(self.totals[n], lookup.context_ids[n])  # (T,) c(h), 0 if h unseen
            if k > 0:
                estimate = (own + k) / (total + k * n_words)
            else:  # mle: 0 after a context never seen
                estimate = np.where(total > 0, own / safe(total), 0.0)
            p = np.where(lookup.has_context[n], estimate, p)
        return p * self.predictable[lookup.words]


# ---- the interpolated recursion, shared by the four smoothings below ------------------------------


@dataclass
class Interpolated:
    """p_k(w | h) = alpha_k(h w) + gamma_k(h) p_{k-1}(w | h'), from p_0 = uniform up to p_n."""

    order: int  # n
    predictable: np.ndarray  # (V,) bool: words that can be predicted
    alpha: dict  # k -> (n_k,) the share of each seen n-gram h w
    gamma: dict  # k -> (n_{k-1},) the mass each context h hands down (1 where never seen)
    discounts: dict = field(default_factory=dict)  # k -> (D1, D2, D3+) of discounting smoothings
    fallback_orders: list = field(default_factory=list)  # orders where modified KN fell back

    @property
    def uniform(self) -> np.ndarray:  # (V,) p_0
        return self.predictable / self.predictable.sum()

    def score(self, lookup: NGramLookup) -> np.ndarray:
        """(T,) p(w | h) of every token of the lookup."""
        p = self.uniform[lookup.words]  # (T,) p_0
        for k in range(1, self.order + 1):
            own = take(self.alpha[k], lookup.ngram_ids[k])  # (T,) 0 where h w unseen
            share = take(self.gamma[k], lookup.context_ids[k], default=1.0)  # (T,) 1 where h unseen
            p = own + share * p
        return p * self.predictable[lookup.words]


# Jelinek-Mercer interpolation: one weight per order, fitted by EM on held-out text


def interpolation(counts: NGramCounts, order: int, lambdas) -> Interpolated:
    """alpha_k = lambda_k c(h w) / c(h), gamma_k = 1 - lambda_k; `lambdas` flat (uniform, 1-gram, ..)."""
    lambda_k = recursive_lambdas(lambdas)  # (n,)
    tables = Interpolated(order, counts.predictable_words(), {}, {})
    for k in range(1, order + 1):
        a = counts.raw_counts(k)  # (n_k,)
        total = context_totals(counts, k, a)  # (n_{k-1},)
        tables.alpha[k] = a / safe(total)[counts.orders[k].context] * lambda_k[k - 1]
        tables.gamma[k] = np.where(total > 0, 1.0 - lambda_k[k - 1], 1.0)
    return tables


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


def fit_interpolation_weights(counts, order, lookup, iterations=1000, tol=1e-9) -> np.ndarray:
    """EM for Jelinek-Mercer weights on held-out tokens; returns flat weights (uniform, 1-gram, ...).

    Each order k is a two-way choice, "use my MLE" (lambda_k) or "hand down" (1 - lambda_k), skipped when its
    context was never seen. E-step: the posterior share of each choice per token; M-step: their ratio.
    """
    words, mle = lookup.words, AddK.from_counts(counts, order, 0.0)
    uniform = mle.predictable[words] / mle.predictable.sum()
    ml, active = [uniform], [np.ones(len(words), bool)]  # per order: (T,) MLE, (T,) context seen
    for k in range(1, order + 1):
        own = take(mle.counts[k], lookup.ngram_ids[k])
        total = take(mle.totals[k], lookup.context_ids[k])
        active.append(total > 0)
        ml.append(np.where(total > 0, own / safe(total), 0.0))
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


# Discounting: absolute discounting, Kneser-Ney and modified Kneser-Ney differ only in a and D


def discounted_level(counts: NGramCounts, k: int, a: np.ndarray, discounts) -> tuple:
    """alpha (n_k,) and gamma (n_{k-1},) of one order for counts a and discounts (D1, D2, D3+)."""
    context = counts.orders[k].context  # (n_k,)
    # every n-gram seen in training hands its discount to gamma (even if its adjusted count is 0)
    seen = counts.raw_counts(k) > 0
    d = np.where(seen, np.asarray(discounts)[np.clip(a, 1, 3).astype(int) - 1], 0.0)  # (n_k,) D(a)
    total = context_totals(counts, k, a)  # (n_{k-1},) sum_v a(h v)
    divisor = safe(total)
    alpha = np.maximum(a - d, 0.0) / divisor[context]
    handed_down = context_totals(counts, k, d)  # (n_{k-1},) sum_v D(a(h v))
    gamma = np.where(total > 0, handed_down / divisor, 1.0)
    return alpha, gamma


def discounted(counts: NGramCounts, order: int, a: dict, discounts: dict) -> Interpolated:
    """The interpolated tables when order k smooths counts a[k] (n_k,) with discounts[k] (D1, D2, D3+)."""
    tables = Interpolated(order, counts.predictable_words(), {}, {})
    for k in range(1, order + 1):
        tables.discounts[k] = tuple(float(x) for x in discounts[k])
        tables.alpha[k], tables.gamma[k] = discounted_level(counts, k, a[k], discounts[k])
    return tables


def absolute_discounting(counts: NGramCounts, order: int, discount: float) -> Interpolated:
    """Raw counts, one discount D at every order."""
    a = {k: counts.raw_counts(k) for k in range(1, order + 1)}
    return discounted(counts, order, a, {k: (discount,) * 3 for k in a})


def kneser_ney(counts: NGramCounts, order: int, discount: float) -> Interpolated:
    """Continuation counts below the top order (NGramCounts.adjusted_counts), one discount D."""
    a = {k: counts.adjusted_counts(k, order) for k in range(1, order + 1)}
    return discounted(counts, order, a, {k: (discount,) * 3 for k in a})


def modified_kneser_ney(counts: NGramCounts, order: int) -> Interpolated:
    """Kneser-Ney's counts, with D1, D2, D3+ estimated per order from its count-of-counts."""
    a = {k: counts.adjusted_counts(k, order) for k in range(1, order + 1)}
    estimates = {k: modified_discounts(a[k]) for k in a}  # k -> ((D1, D2, D3+), fell back)
    tables = discounted(counts, order, a, {k: d for k, (d, _) in estimates.items()})
    tables.fallback_orders = [k for k, (_, fell_back) in estimates.items() if fell_back]
    return tables


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


# ---- stupid backoff: a score, not a distribution -------------------------------------------------


@dataclass
class StupidBackoff:
    """score(w | h) = c(h w) / c(h) if h w was seen, else backoff * score(w | h')."""

    order: int  # n
    predictable: np.ndarray  # (V,) bool: words that can be predicted
    relative: dict  # k -> (n_k,) c(h w) / c(h)
    backoff: float  # multiplier per step down to a shorter context

    @classmethod
    def from_counts(cls, counts: NGramCounts, order: int, backoff: float) -> StupidBackoff:
        relative = {}
        for k in range(1, order + 1):
            a = counts.raw_counts(k)  # (n_k,)
            relative[k] = a / safe(context_totals(counts, k, a))[counts.orders[k].context]
        return cls(order, counts.predictable_words(), relative, float(backoff))

    def score(self, lookup: NGramLookup) -> np.ndarray:
        """(T,) the stupid-backoff score of every token of the lookup."""
        p = np.zeros(len(lookup.words))
        for k in range(1, self.order + 1):  # p: the score with k-1 words of context
            own = take(self.relative[k], lookup.ngram_ids[k])  # (T,) 0 where h w unseen
            backed_off = np.where(lookup.has_context[k], self.backoff * p, p)
            p = np.where(own > 0, own, backed_off)
        return p * self.predictable[lookup.words]


# ---- by name (NGramConfig's settings) ---------------------------------------------------------


def build_tables(counts: NGramCounts, smoothing, order, k=1.0, discount=0.75, lambdas=None, backoff=0.4):
    """The tables of one smoothing: each has .score(lookup) -> (T,) and .predictable (V,)."""
    if smoothing in ("mle", "add_k"):
        return AddK.from_counts(counts, order, 0.0 if smoothing == "mle" else k)
    if smoothing == "stupid_backoff":
        return StupidBackoff.from_counts(counts, order, backoff)
    if smoothing == "interpolation":
        return interpolation(counts, order, lambdas)
    if smoothing == "absolute_discounting":
        return absolute_discounting(counts, order, discount)
    if smoothing == "kneser_ney":
        return kneser_ney(counts, order, discount)
    if smoothing == "modified_kneser_ney":
        return modified_kneser_ney(counts, order)
    raise ValueError(f"Unknown smoothing {smoothing!r}; choose one of: {', '.join(SMOOTHINGS)}.")
