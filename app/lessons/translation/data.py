"""What the translation lesson's tabs share: the corpus, IBM Model 1 trained on it, the English LM. No Streamlit.

Named corpora are computed once per server (`page.shared`, keyed by the settings); a user's own pairs are computed
in their session only.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from models.translation.config import TranslationConfig
from models.translation.corpora import parallel_corpus
from models.translation.ibm_model1 import IBMModel1, aer_by_iteration
from models.translation.noisy_channel import english_lm


@dataclass
class Alignment:
    corpus: str
    pairs: list  # [(foreign tokens, English tokens)]
    gold: list | None  # gold alignments [(j, i)] per pair, or None
    ibm: IBMModel1  # trained for `iterations`; ibm.history holds every table
    aer: list[float] | None  # AER after 0..iterations EM steps (None without gold)
    iterations: int


def align_corpus(corpus: str, iterations: int, toy_pairs: int, seed: int, text: str = "") -> Alignment:
    pairs, gold = parallel_corpus(corpus, text=text, n_pairs=toy_pairs, seed=seed)
    ibm = IBMModel1(pairs).train(iterations)
    aer = aer_by_iteration(ibm, gold) if gold is not None else None
    return Alignment(corpus, pairs, gold, ibm, aer, iterations)


def alignment(page, config: TranslationConfig, text: str) -> Alignment:
    """The shared result for a named corpus; the user's pairs once per session and text (kept, not shared)."""
    if config.corpus != "user":
        return page.shared(
            align_corpus, config.corpus, config.iterations, config.toy_pairs, config.seed, read_only=True
        )
    key = (hashlib.sha1((text or "").encode("utf-8")).hexdigest(), config.iterations)
    kept = page.result("user-alignment")
    if kept is None or kept[0] != key:
        kept = page.keep("user-alignment", (key, align_corpus("user", config.iterations, 0, 0, text)))
    return kept[1]


def lm_for(pairs: list, order: int):
    return english_lm(pairs, order)


def shared_lm(corpus: str, toy_pairs: int, seed: int, order: int):
    pairs, _ = parallel_corpus(corpus, n_pairs=toy_pairs, seed=seed)
    return english_lm(pairs, order)
