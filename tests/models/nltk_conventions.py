"""nltk.lm's conventions on top of our n-gram model, for the tests and the benchmark that compare with nltk.

models/ follows KenLM. nltk.lm (3.9) differs in four places, and only there:
- padding: padded_everygram_pipeline puts order-1 <s> and order-1 </s> around each training sentence (and
  the order-1 <s> before each scored sentence);
- <s> is a word like any other: in the vocabulary, predicted, and a context is never cut at an <s>;
- Kneser-Ney's lower orders use continuation counts everywhere, also for n-grams that start with <s>;
- absolute discounting and Kneser-Ney do not discount the unigram level nor mix it with the uniform
  distribution: p_1(w) = a(w) / sum_v a(v) (nltk's `unigram_score`).
NltkCounts changes the first three by overriding NGramCounts' convention methods; nltk_model changes the fourth
by re-smoothing order 1 with D = 0. Everything else (every formula above order 1) is models/' own code.
"""

from __future__ import annotations

import numpy as np

from models.ngrams.counts import NGramCounts
from models.ngrams.model import NGramLM
from models.ngrams.smoothing import discounted_level

DISCOUNTING = ("absolute_discounting", "kneser_ney", "modified_kneser_ney")


class NltkCounts(NGramCounts):
    """NGramCounts with nltk.lm's padding, vocabulary and Kneser-Ney counts (see the module docstring)."""

    def sentence_padding(self) -> tuple[int, int]:
        return self.max_order - 1, self.max_order - 1

    def predictable_words(self) -> np.ndarray:
        return np.ones(len(self.vocab), bool)  # <s> included

    def adjusted_counts(self, k: int, order: int) -> np.ndarray:
        return self.raw_counts(k) if k == order else self.continuation[k].astype(np.float64)

    def usable_context(self, context, order: int) -> tuple:
        context = tuple(context)
        return context[max(0, len(context) - (order - 1)) :]


def nltk_model(sentences, order: int, heldout=None, **settings) -> NGramLM:
    """NGramLM(order=order, **settings).fit(sentences), the way nltk.lm's model of that order sees it."""
    counts = NltkCounts.from_sentences(sentences, max_order=order)  # the padding depends on the order
    lm = NGramLM.from_counts(counts, heldout, order=order, **settings)
    if lm.config.smoothing in DISCOUNTING:  # order 1 not discounted: alpha_1 = a / sum a, gamma_1 = 0
        tables, no_discount = lm.tables, (0.0, 0.0, 0.0)
        a = counts.raw_counts(1)
        if lm.config.smoothing != "absolute_discounting":
            a = counts.adjusted_counts(1, order)
        tables.alpha[1], tables.gamma[1] = discounted_level(counts, 1, a, no_discount)
        tables.discounts[1] = no_discount
    return lm
