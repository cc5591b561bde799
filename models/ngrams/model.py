"""N-gram language models: count, smooth, score, generate, export to ARPA.

What: P(word | previous n-1 words) estimated from counts, with the classic smoothings side by side (mle, add_k,
Jelinek-Mercer interpolation, absolute discounting, Kneser-Ney, modified Kneser-Ney, stupid backoff; the
formulas are in models/ngrams/smoothing.py). Why: the smoothing is what decides how much probability the model
keeps for words never seen after a context, and held-out perplexity shows which choice generalises.
Papers: Chen & Goodman 1998, https://arxiv.org/abs/cmp-lg/9606011; Jurafsky & Martin, SLP3 chapter 3.

Conventions (KenLM's): each sentence is <s> w1 .. wm </s>; the first word is predicted from <s> alone (no
repeated <s> padding); </s> is predicted and counted in perplexity, <s> is not. The vocabulary is every training
word seen at least min_count times, plus <s>, </s> and <unk>; other words are scored as <unk>. The smoothed
models give <unk> a share of the uniform distribution, so a sentence made only of unknown words still has a
finite perplexity; mle gives it zero probability (perplexity inf). Stupid backoff scores do not sum to 1: its
`is_distribution` is False and perplexity() refuses it.

Count once, smooth many times: NGramCounts.from_sentences(train, max_order=5) then NGramLM.from_counts(counts,
order=.., smoothing=..) for every curve point; see models/ngrams/curves.py.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from models.ngrams.arpa import write_arpa
from models.ngrams.counts import BOS, EOS, EOS_ID, NGramCounts, NGramLookup
from models.ngrams.smoothing import SMOOTHINGS, build_tables, fit_interpolation_weights


@dataclass
class NGramConfig:
    order: int = 3  # n: each word is predicted from the n-1 words before it (1..5)
    smoothing: str = "kneser_ney"  # one of SMOOTHINGS
    k: float = 1.0  # add_k: pseudo-count added to every count (1 = Laplace)
    discount: float = 0.75  # absolute_discounting, kneser_ney: D taken off seen counts, (0, 1]
    lambdas: tuple | None = None  # interpolation: weights (uniform, 1-gram, ..); None: EM fit
    backoff: float = 0.4  # stupid_backoff: score multiplier per step down to a shorter context
    min_count: int = 1  # words seen fewer times in training become <unk> (1 keeps every word)

    def __post_init__(self):
        checks = [
            (
                isinstance(self.order, (int, np.integer)) and 1 <= self.order <= 5,
                f"The n-gram order must be a whole number from 1 to 5, got {self.order!r}.",
            ),
            (
                self.smoothing in SMOOTHINGS,
                f"Unknown smoothing {self.smoothing!r}; choose one of: {', '.join(SMOOTHINGS)}.",
            ),
            (
                self.k > 0,
                f"k (the add-k pseudo-count) must be above 0, got {self.k}; k = 1 is Laplace.",
            ),
            (0 < self.discount <= 1, f"The discount must be in (0, 1], got {self.discount}."),
            (
                0 < self.backoff <= 1,
                f"The stupid-backoff factor must be in (0, 1], got {self.backoff}.",
            ),
            (
                isinstance(self.min_count, (int, np.integer)) and self.min_count >= 1,
                f"min_count must be a whole number >= 1 (1 keeps every word), got {self.min_count!r}.",
            ),
        ]
        for ok, message in checks:
            if not ok:
                raise ValueError(message)
        if self.lambdas is not None:
            lambdas = np.asarray(self.lambdas, dtype=np.float64)
            if lambdas.shape != (self.order + 1,) or np.any(lambdas < 0):
                raise ValueError(
                    f"Give {self.order + 1} non-negative interpolation weights (uniform, then orders 1.."
                    f"{self.order}), got {list(self.lambdas)}."
                )
            if abs(lambdas.sum() - 1.0) > 1e-6:
                raise ValueError(f"The interpolation weights must sum to 1, they sum to {lambdas.sum():.6g}.")


@dataclass
class TokenScore:
    word: str  # the token as written (</s> for the end of the sentence)
    prob: float  # p(word | context) (a score for stupid_backoff)
    logprob: float  # natural log of prob (-inf when prob is 0)
    order_used: int  # longest n-gram (context + word) seen in training; 0: word never seen
    is_oov: bool  # outside the vocabulary, scored as <unk>


class NGramLM:
    """lm = NGramLM(order=3, smoothing="kneser_ney").fit(train); lm.perplexity(heldout)."""

    def __init__(self, config: NGramConfig | None = None, **kwargs):
        self.config = replace(config, **kwargs) if config is not None else NGramConfig(**kwargs)
        self.counts: NGramCounts | None = None
        self.tables = None  # once fitted: the smoothing's tables (models/ngrams/smoothing.py)
        self.lambdas = None  # interpolation: (order+1,) flat weights used, given or fitted

    # ---- training -------------------------------------------------------------------------------

    def fit(self, sentences, heldout=None) -> NGramLM:
        """Count tokenised sentences; interpolation without lambdas fits them by EM on `heldout`, or, if
        none is given, on every 10th training sentence (counted without it), then uses all the counts."""
        cfg = self.config
        counts = NGramCounts.from_sentences(sentences, cfg.order, cfg.min_count)
        if cfg.smoothing == "interpolation" and cfg.lambdas is None and heldout is None:
            rest = [s for i, s in enumerate(sentences) if i % 10]
            if not any(rest):
                raise ValueError("Too few sentences to fit the interpolation weights: give lambdas.")
            em_counts = NGramCounts.from_sentences(rest, cfg.order, cfg.min_count)
            dev = em_counts.lookup_sentences(sentences[::10], cfg.order)
            return self._use_counts(counts, lambdas=fit_interpolation_weights(em_counts, cfg.order, dev))
        return self._use_counts(counts, heldout)

    @classmethod
    def from_counts(cls, counts: NGramCounts, heldout=None, config=None, **kwargs) -> NGramLM:
        """A model over existing counts (no re-counting, their conventions); min_count comes from them."""
        lm = cls(config, **kwargs)
        lm.config = replace(lm.config, min_count=counts.min_count)
        return lm._use_counts(counts, heldout)

    def _use_counts(self, counts, heldout=None, lambdas=None) -> NGramLM:
        cfg = self.config
        if cfg.order > counts.max_order:
            raise ValueError(f"These counts go up to order {counts.max_order}; the model needs {cfg.order}.")
        if cfg.smoothing == "interpolation":
            lambdas = cfg.lambdas if lambdas is None else lambdas
            if lambdas is None:
                if heldout is None:
                    raise ValueError("Interpolation needs held-out sentences to fit its weights, or lambdas.")
                if not isinstance(heldout, NGramLookup):
                    heldout = counts.lookup_sentences(heldout)
                lambdas = fit_interpolation_weights(counts, cfg.order, heldout)
            self.lambdas = np.asarray(lambdas, dtype=np.float64)
        self.counts = counts
        self.tables = build_tables(counts, cfg.smoothing, cfg.order, cfg.k, cfg.discount, self.lambdas, cfg.backoff)
        return self

    # ---- what the page reads --------------------------------------------------------------------

    @property
    def is_distribution(self) -> bool:
        """False for stupid backoff: its scores do not sum to 1 over the vocabulary."""
        return self.config.smoothing != "stupid_backoff"

    @property
    def vocab(self) -> list[str]:
        return self._fitted().vocab

    @property
    def discounts(self) -> dict:
        """Order -> (D1, D2, D3+) for the discounting smoothings (all equal but for modified KN)."""
        self._fitted()
        return dict(getattr(self.tables, "discounts", {}))

    def _fitted(self) -> NGramCounts:
        if self.counts is None:
            raise ValueError("The model is not trained yet: call fit(sentences) first.")
        return self.counts

    def distribution(self, context=()) -> np.ndarray:
        """(V,) p(w | context) for every vocabulary word w (aligned with lm.vocab); <s> gets 0."""
        return self.tables.score(self._fitted().lookup_next_words(context, self.config.order))

    def prob(self, word: str, context=()) -> float:
        counts = self._fitted()
        return float(self.distribution(context)[counts.word_ids([word])[0]])

    def logprob(self, word: str, context=()) -> float:
        """Natural log of prob (-inf when it is 0)."""
        p = self.prob(word, context)
        return math.log(p) if p > 0 else -math.inf

    def next_word_counts(self, context=()) -> dict[str, int]:
        """Training counts of each word seen after the (usable part of the) context."""
        counts = self._fitted()
        return counts.next_word_counts(counts.usable_context(context, self.config.order))

    def unseen_mass(self, context=()) -> float:
        """Probability given to the words never seen after this context: 1 after an unseen context, 0
        for mle; for stupid backoff the sum of their scores."""
        counts, order = self._fitted(), self.config.order
        context = counts.usable_context(context, order)
        k = len(context) + 1
        ngram_ids = counts.lookup_next_words(context, order).ngram_ids[k]
        seen = counts.seen(k, ngram_ids)
        return float(self.distribution(context)[~seen & self.tables.predictable].sum())

    def unk_rate(self, sentences) -> float:
        """Fraction of the words of `sentences` outside the vocabulary (they are scored as <unk>)."""
        return self._fitted().unk_rate(sentences)

    def score_tokens(self, sentence: list[str]) -> list[TokenScore]:
        """Per token of the sentence, then </s>: its probability, the n-gram order found, OOV or not."""
        lookup = self._fitted().lookup_sentences([list(sentence)], self.config.order)
        probs, used = self.tables.score(lookup), self._orders_used(lookup)
        words = list(sentence) + [EOS]
        with np.errstate(divide="ignore"):
            logs = np.log(probs)
        rows = zip(words, probs.tolist(), logs.tolist(), used.tolist(), lookup.is_oov.tolist())
        return [TokenScore(w, p, lp, u, o) for w, p, lp, u, o in rows]

    def _orders_used(self, lookup: NGramLookup) -> np.ndarray:
        used = np.zeros(len(lookup.words), dtype=np.int64)
        for k in range(1, self.config.order + 1):
            used = np.where(self.counts.seen(k, lookup.ngram_ids[k]), k, used)
        return used

    def evaluate(self, sentences) -> dict:
        """Held-out log-likelihood: perplexity = exp(-sum ln p / tokens), tokens = words + one </s> per
        sentence; also the log10 total, token and OOV counts and how many tokens got probability 0."""
        if not self.is_distribution:
            raise ValueError(
                "Stupid backoff gives scores, not probabilities (they do not sum to 1), so its "
                "perplexity is not defined. Compare it by generated text or ranking instead."
            )
        counts = self._fitted()
        if isinstance(sentences, NGramLookup):
            if sentences.counts is not counts or len(sentences.ngram_ids) < self.config.order:
                raise ValueError("This lookup was made from other counts or a lower order.")
            lookup = sentences
        else:
            lookup = counts.lookup_sentences(sentences, self.config.order)
        probs = self.tables.score(lookup)
        with np.errstate(divide="ignore"):
            log_total = float(np.sum(np.log(probs)))
        n_tokens = len(probs)
        return {
            "perplexity": math.exp(-log_total / n_tokens) if np.isfinite(log_total) else math.inf,
            "log10_total": log_total / math.log(10),
            "tokens": n_tokens,
            "oov_tokens": int(lookup.is_oov.sum()),
            "zero_probability_tokens": int(np.sum(probs == 0)),
        }

    def perplexity(self, sentences) -> float:
        return self.evaluate(sentences)["perplexity"]

    def sentence_log10(self, sentence: list[str]) -> float:
        """log10 p(sentence </s> | <s>), what kenlm's Model.score(" ".join(sentence)) returns."""
        return float(np.sum([t.logprob for t in self.score_tokens(sentence)]) / math.log(10))

    # ---- generation and export ------------------------------------------------------------------

    def generate(self, num_words=20, seed=0, temperature=1.0, context=(), stop_at_end=False) -> list[str]:
        """Sample num_words tokens; "</s>" ends a sentence and the next one starts from <s> (or stop there
        with stop_at_end). Temperature rescales log-probabilities: < 1 sharper, > 1 flatter."""
        counts, order = self._fitted(), self.config.order
        if temperature <= 0:
            raise ValueError(f"The temperature must be above 0, got {temperature}.")
        start = [BOS] * counts.sentence_padding()[0]  # how a sentence starts in the counts
        rng, history, out = np.random.default_rng(seed), start + list(context), []
        while len(out) < num_words:
            usable = counts.usable_context(history, order)
            p = self.distribution(usable)
            while p.sum() <= 0 and usable:  # mle after an unseen context: use a shorter one
                usable = usable[1:]
                p = self.distribution(usable)
            with np.errstate(divide="ignore"):
                logits = np.log(p) / temperature
            weights = np.exp(logits - logits.max())
            word_id = int(rng.choice(len(weights), p=weights / weights.sum()))
            if word_id == EOS_ID and stop_at_end:
                break
            out.append(counts.vocab[word_id])
            history = list(start) if word_id == EOS_ID else history + [counts.vocab[word_id]]
        return out

    def to_arpa(self, path) -> None:
        """Write an ARPA back-off file (interpolated smoothings) that kenlm and SRILM can load."""
        self._fitted()
        write_arpa(self.counts, self.tables, path)


def same_vocabulary(a, b) -> bool:
    """True when two models, counts or word lists (a model's `vocab`, e.g. kept with a pinned result) use
    the same vocabulary: only then are perplexities comparable."""
    return _vocab_of(a) == _vocab_of(b)


def _vocab_of(x) -> list[str]:
    if isinstance(x, NGramCounts):
        return list(x.vocab)
    if isinstance(x, NGramLM):
        return list(x._fitted().vocab)
    return list(x)
