"""The Corpus tab: the counts word2vec learns from. Zipf's law (a few words are very frequent, most are
rare), min_count (rarer words get no vector) and subsampling (frequent words dropped at random)."""

import numpy as np
import streamlit as st

from app.lessons.word_embeddings.corpus_stats import (
    keep_figure,
    keep_frame,
    kept_share,
    zipf_figure,
    zipf_fit,
    zipf_frame,
)
from app.page import LessonPage

TITLE = "Corpus"


def render(page: LessonPage) -> None:
    lesson = page.data
    frame, stats, vocab = lesson.frame, lesson.stats, lesson.vocab
    min_count, subsample = lesson.config.min_count, lesson.config.subsample
    st.markdown(
        "Word2vec learns from counts of who-appears-near-whom, so first look at the words. A few "
        "words are very frequent and most are rare (**Zipf's law**: count ∝ 1/rank). Words rarer "
        "than min_count get no vector, and the very frequent ones (*the*, *of*) are **subsampled**: "
        "dropped at random, which speeds training and lets the rarer words' contexts count more."
    )
    m = st.columns(6)
    m[0].metric("Sentences", f"{stats['sentences']:,}", help=lesson.corpus_label)
    m[1].metric("Words (tokens)", f"{stats['tokens']:,}")
    m[2].metric("Distinct words", f"{stats['distinct']:,}")
    m[3].metric(f"Vocabulary (≥ {min_count}×)", f"{len(vocab):,}")
    m[4].metric(
        "Tokens in the vocabulary",
        f"{vocab['count'].sum() / max(stats['tokens'], 1):.1%}",
        help="The rest are rarer than min_count and skipped",
    )
    kept = kept_share(frame, int(min_count), float(subsample))
    m[5].metric(
        "Kept by subsampling",
        "–" if np.isnan(kept) else f"{kept:.1%}",
        help="Expected share of the in-vocabulary tokens left in each epoch",
    )
    left, right = st.columns(2)
    with left:
        slope, intercept = zipf_fit(frame, int(min_count))
        points = zipf_frame(frame)
        page.chart(
            zipf_figure(points, int(min_count), slope, intercept, len(frame)),
            points,
            "w2v-zipf",
        )
        st.caption(
            f"A straight line on log-log axes is a power law; the fitted slope is {slope:.2f} "
            "(Zipf's law says about −1). Below the dotted line: no vector for these words."
        )
    with right:
        if vocab.empty:
            st.info("The vocabulary is empty at this min_count: nothing to subsample.")
        else:
            rows = keep_frame(frame, int(min_count), float(subsample))
            page.chart(keep_figure(rows, float(subsample)), rows, "w2v-subsampling")
            st.caption(
                "Each occurrence of a word with frequency f is kept with probability "
                "(√(f/t) + 1)·t/f (capped at 1): words below about 2.6·t are always kept."
                if subsample > 0
                else "Subsampling is off: every occurrence is kept, so *the* and *of* dominate the training pairs."
            )
