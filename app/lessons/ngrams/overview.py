"""What every n-gram tab shares: the counts smoothed every way, and the metrics above the tabs."""

import streamlit as st

from app.lessons.ngrams import cache
from app.lessons.ngrams.data import MAX_ORDER, Data, Smoothed
from app.lessons.ngrams.labels import TITLES, number
from models.ngrams.model import NGramConfig


def smooth(data: Data, config: NGramConfig) -> Smoothed:
    """Every smoothing of the last valid counts and settings."""
    curves = cache.order_curves(data.key, data, config.k, config.discount)
    models = cache.models(data.key, data, config, config.k, config.discount)
    perplexity = curves["perplexity"].get(config.smoothing, [None] * MAX_ORDER)[config.order - 1]
    return Smoothed(
        data=data,
        config=config,
        curves=curves,
        models=models,
        perplexity=perplexity,
        unk_rate=data.counts.unk_rate(data.heldout),
        used=f"{TITLES[config.smoothing]}, n = {config.order}",
    )


def metrics_row(lesson: Smoothed) -> None:
    """The corpus, vocabulary and chosen model's held-out perplexity, above the tabs."""
    data, perplexity = lesson.data, lesson.perplexity
    cols = st.columns(5)
    cols[0].metric("Training words", f"{sum(map(len, data.train)):,}", help=data.label)
    cols[1].metric("Held-out words", f"{sum(map(len, data.heldout)):,}")
    cols[2].metric("Vocabulary", f"{len(data.counts.vocab):,}", help="with <s>, </s> and <unk>")
    cols[3].metric("Held-out <unk> rate", f"{lesson.unk_rate:.2%}")
    cols[4].metric(
        "Held-out perplexity",
        number(perplexity),
        help=lesson.used + (". Stupid backoff gives scores, not probabilities." if perplexity is None else ""),
    )
