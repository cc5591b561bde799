"""The corpus the n-gram lesson counts once, and every model and sweep built from those counts.

No Streamlit here: app/lessons/ngrams/cache.py caches these, and the tabs draw what they return.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from models.ngrams.counts import NGramCounts, NGramLookup
from models.ngrams.curves import perplexity_by_discount, perplexity_by_k
from models.ngrams.model import NGramConfig, NGramLM
from models.ngrams.smoothing import SMOOTHINGS
from models.text import train_heldout_split

MAX_ORDER = 5  # counted once up to this order; every model re-smooths these counts
DISCOUNTS = (0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95, 1.0)
SWEEP_MIN_COUNTS = (1, 2, 3, 5, 10, 20)


@dataclass(frozen=True)
class Data:
    """A corpus split into train and held-out parts, counted once up to MAX_ORDER."""

    key: str  # corpus, split and vocabulary cut: the cache key of everything computed from it
    label: str
    train: list
    heldout: list
    counts: NGramCounts
    heldout_lookup: NGramLookup  # held-out n-gram ids up to MAX_ORDER, looked up once


@dataclass(frozen=True)
class Smoothed:
    """What every tab draws from (page.data): the last valid corpus and settings, smoothed every way."""

    data: Data
    config: NGramConfig
    curves: dict  # held-out perplexity of every smoothing by order, and the EM interpolation weights
    models: dict[str, NGramLM]  # smoothing -> model, all over the same counts, order, k and D
    perplexity: float | None  # the chosen model's held-out perplexity (None: stupid backoff)
    unk_rate: float  # held-out <unk> rate under this vocabulary cut
    used: str  # the chosen model as the captions name it, e.g. "Kneser-Ney, n = 3"

    @property
    def main(self) -> NGramLM:
        """The model chosen in the controls."""
        return self.models[self.config.smoothing]


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


def pin_payload(data: Data, config: NGramConfig, perplexity: float | None, unk_rate: float) -> dict:
    """What a pinned model keeps: enough to compare perplexities, and its vocabulary to check it."""
    return {
        "perplexity": perplexity,
        "order": config.order,
        "vocab_size": len(data.counts.vocab),
        "unk_rate": unk_rate,
        "vocab": tuple(data.counts.vocab),
    }
