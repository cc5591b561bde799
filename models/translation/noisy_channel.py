"""The noisy channel: translate a foreign sentence f into the English e that maximises p(e) p(f | e)
(Brown et al. 1990, "A Statistical Approach to Machine Translation", https://aclanthology.org/J90-2002).

    e* = argmax_e  log p(e)  +  log p(f | e)
                   n-gram LM    IBM Model 1: sum_j log sum_{i=0..l} t(f_j | e_i) - m log(l + 1)

The LM knows English word order and nothing of f; the channel model knows which words translate which and nothing
of order (Model 1 is a bag of words). Neither alone translates: the LM alone says "the the the", the channel alone
leaves the foreign order. The decoder is a beam search over English prefixes built from a small candidate set: the
k best translations of each foreign word, plus the English words that IBM Model 1 finds have almost no foreign
counterpart (fertility below 0.5, such as articles). Each prefix is scored as a whole sentence, so the best
finished candidate has the exact score p(e) p(f | e).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np

from models.ngrams.model import NGramConfig, NGramLM
from models.translation.ibm_model1 import NULL, IBMModel1

MAX_FOREIGN_WORDS = 10  # the decoder's search grows with the sentence: it is a demo, not Moses


@dataclass
class ChannelConfig:
    lm_order: int = 2  # n of the English n-gram LM p(e) (Kneser-Ney)
    translations_per_word: int = 3  # English candidates per foreign word, the largest t(f | e)
    beam_size: int = 40  # English prefixes kept per length
    max_extra_words: int = 3  # English words with no foreign counterpart (articles) the decoder may add
    lm_weight: float = 1.0  # the weight of log p(e) (1 = the plain noisy channel)

    def __post_init__(self):
        if not 1 <= self.lm_order <= 4:
            raise ValueError(f"The LM order must be between 1 and 4 (got {self.lm_order}).")
        if not 1 <= self.translations_per_word <= 10:
            raise ValueError(f"Between 1 and 10 translations per word, please (got {self.translations_per_word}).")
        if not 1 <= self.beam_size <= 500:
            raise ValueError(f"The beam keeps between 1 and 500 prefixes (got {self.beam_size}).")
        if not 0 <= self.max_extra_words <= 6:
            raise ValueError(f"Between 0 and 6 extra English words, please (got {self.max_extra_words}).")
        if not 0 <= self.lm_weight <= 10:
            raise ValueError(f"The LM weight must be between 0 and 10 (got {self.lm_weight}).")


def english_lm(pairs, order: int = 2) -> NGramLM:
    """p(e): a Kneser-Ney n-gram model (the n-gram lesson's code) of the corpus's English side."""
    return NGramLM(NGramConfig(order=order, smoothing="kneser_ney" if order > 1 else "add_k")).fit(
        [e for _, e in pairs]
    )


class _LMScorer:
    """log p(w | the n-1 words before), its distributions cached per context."""

    def __init__(self, lm: NGramLM):
        self.lm, self.order = lm, lm.config.order
        self.index = {w: k for k, w in enumerate(lm.vocab)}
        self.cache: dict[tuple, np.ndarray] = {}

    def log(self, word: str, history: tuple) -> float:
        context = (("<s>",) * self.order + history)[len(history) + 1 :] if self.order > 1 else ()
        if context not in self.cache:
            with np.errstate(divide="ignore"):
                self.cache[context] = np.log(self.lm.distribution(context))
        return float(self.cache[context][self.index.get(word, self.index["<unk>"])])

    def sentence(self, words: tuple) -> float:
        return sum(self.log(w, words[:k]) for k, w in enumerate(words)) + self.log("</s>", words)


def candidate_words(foreign: list[str], ibm: IBMModel1, config: ChannelConfig) -> tuple[Counter, list[str]]:
    """The English words the decoder may use: {word: how many times}, and the ones it may insert freely."""
    allowed = Counter()
    for f in foreign:
        for e, _ in ibm.best_translations(f, config.translations_per_word):
            allowed[e] += 1
    fertility = ibm.fertility()
    counts = Counter(w for _, e in ibm.pairs for w in e)
    inserts = [w for w, _ in counts.most_common() if fertility.get(w, 1.0) < 0.5 and w != NULL][:3]
    for w in inserts:
        allowed[w] += config.max_extra_words
    return allowed, inserts


def noisy_channel_decode(
    foreign: list[str], ibm: IBMModel1, lm: NGramLM, config: ChannelConfig | None = None, top: int = 10
) -> dict:
    """The `top` English candidates for `foreign`, best first, each with log p(e), log p(f | e) and their sum;
    plus the word-for-word baseline (each foreign word's best t(f | e), in the foreign order)."""
    config = config or ChannelConfig()
    if not foreign:
        raise ValueError("Type a foreign sentence to decode.")
    if len(foreign) > MAX_FOREIGN_WORDS:
        raise ValueError(f"{len(foreign)} words: the decoder takes at most {MAX_FOREIGN_WORDS}; type a shorter one.")
    unknown = [f for f in foreign if f not in ibm.f_index]
    if unknown:
        raise ValueError(f"Not in the corpus, so IBM Model 1 has no t(f | e) for: {', '.join(unknown)}.")
    allowed, inserts = candidate_words(foreign, ibm, config)
    words = list(allowed)
    t_columns = ibm.table(foreign, words)  # (m, W): t(f_j | w)
    null_column = ibm.table(foreign, [NULL])[:, 0]  # (m,)
    scorer = _LMScorer(lm)
    m = len(foreign)

    def channel(per_word: np.ndarray, length: int) -> float:  # log p(f | e) from sum_i t(f_j | e_i)
        with np.errstate(divide="ignore"):
            return float(np.log(per_word).sum() - m * np.log(length + 1))

    beam = [((), 0.0, null_column.copy(), Counter())]  # (prefix, log p(prefix), (m,) sums, words used)
    finished = {}
    for length in range(1, m + config.max_extra_words + 1):
        grown = []
        for prefix, lm_log, per_word, used in beam:
            for k, w in enumerate(words):
                if used[w] >= allowed[w]:
                    continue
                new_lm = lm_log + scorer.log(w, prefix)
                new_sums = per_word + t_columns[:, k]
                score = config.lm_weight * new_lm + channel(new_sums, length)
                grown.append((score, prefix + (w,), new_lm, new_sums, used + Counter([w])))
        grown.sort(key=lambda item: -item[0])
        beam = [(prefix, lm_log, sums, used) for _, prefix, lm_log, sums, used in grown[: config.beam_size]]
        for prefix, lm_log, sums, _ in beam:
            lm_total = lm_log + scorer.log("</s>", prefix)
            finished[prefix] = (lm_total, channel(sums, len(prefix)))
    rows = [
        {
            "english": " ".join(prefix),
            "log p(e)": lm_total,
            "log p(f|e)": tm,
            "score": config.lm_weight * lm_total + tm,
        }
        for prefix, (lm_total, tm) in finished.items()
    ]
    rows.sort(key=lambda row: -row["score"])
    best = [ibm.best_translations(f, 1)[0] for f in foreign]  # (e, t(f | e)) of each foreign word
    word_for_word = tuple(e for f, (e, t) in zip(foreign, best) if t >= ibm.prob(f, NULL))  # NULL's words dropped
    baseline = {
        "english": " ".join(word_for_word),
        "log p(e)": scorer.sentence(word_for_word),
        "log p(f|e)": ibm.log_prob(foreign, list(word_for_word)),
    }
    baseline["score"] = config.lm_weight * baseline["log p(e)"] + baseline["log p(f|e)"]
    return {"candidates": rows[:top], "word_for_word": baseline, "inserted_words": inserts, "searched": len(rows)}
