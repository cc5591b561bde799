"""Word embeddings (Lecture 2): one-hot against dense vectors, negative sampling made visible, word2vec
trained live, skip-gram beside CBOW, and the vectors evaluated beside gensim's.

One module per tab; `controls` draws the corpus and word2vec's settings (named like Word2VecConfig's
fields) and returns what every tab shares. Pure helpers (no Streamlit): trainer, corpus_stats,
negative_sampling, vector_space, evaluation.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import pandas as pd
import streamlit as st

from app.lecture import advanced_controls
from app.lessons.word_embeddings import (
    compare_tab,
    corpus_tab,
    evaluate_tab,
    negative_sampling_tab,
    onehot_tab,
    train_tab,
)
from app.lessons.word_embeddings.corpus_stats import in_vocabulary, vocabulary_stats
from app.lessons.word_embeddings.trainer import ARCHITECTURES, CBOW_LR, corpus_settings
from app.page import LessonPage, Preset
from models.word_embeddings.word2vec import Word2VecConfig

INTRO = (
    "A **one-hot** vector gives each word its own axis: *cat* and *dog* are as unrelated as *cat* and "
    "*democracy*, and a vocabulary of 10,000 words needs 10,000 numbers per word. **Word2vec** learns "
    "a short dense vector per word instead, trained so that a word's vector predicts its neighbours; "
    "words used in similar contexts end up close, and directions in the space carry meaning "
    "(*king − man + woman ≈ queen*, when the corpus says so)."
)
SUBSAMPLES = [0.0, 1e-5, 1e-4, 1e-3, 1e-2]
TOY = dict(corpus="toy", dim=32, window=4, min_count=2, epochs=2) | corpus_settings("toy")
PRESETS = {
    "Lecture demo: toy world analogies": Preset(
        "word2vec trained on the toy world solves man : king :: woman : ? (queen) within seconds.",
        tab=train_tab.TITLE,
        values=TOY,
    ),
    "Lecture demo: skip-gram vs CBOW": Preset(
        "Skip-gram and CBOW trained side by side on the Wikipedia sample, each with a learning "
        "rate under which it works: both find sensible neighbours; their scores and speed differ.",
        tab=compare_tab.TITLE,
        values={"compare": "arch", "compare_cbow_lr": CBOW_LR},
    ),
    "Lecture demo: 5 vs 15 negatives": Preset(
        "The toy world trained with 5 and with 15 noise words per pair, side by side: the share "
        "of analogies each solves (the losses cannot be compared across K).",
        tab=compare_tab.TITLE,
        values=TOY | {"negatives": 15, "compare": "negatives"},
    ),
    "Lecture demo: no subsampling": Preset(
        "Without subsampling every occurrence of 'the' and 'of' is kept: 100% of the tokens.",
        tab=corpus_tab.TITLE,
        values={"subsample": 0.0},
    ),
    "Lecture demo: unigram noise (α = 1)": Preset(
        "With α = 1 noise words are drawn by raw frequency: the ten most frequent words take their "
        "full share of the draws.",
        tab=negative_sampling_tab.TITLE,
        values={"ns_exponent": 1.0},
    ),
}
TABS = [corpus_tab, onehot_tab, negative_sampling_tab, train_tab, compare_tab, evaluate_tab]


@dataclass
class Lesson:
    """What every tab shares: the corpus, its counts, and the word2vec settings."""

    corpus_key: str  # 'wiki', 'toy', … or 'user:<sha1 of the text>'
    corpus_label: str
    sentences: list  # lists of words
    frame: pd.DataFrame  # every distinct word: rank, word, count (most frequent first)
    stats: dict  # sentences, tokens, distinct, longest, median_length
    vocab: pd.DataFrame  # the rows of frame with count >= min_count
    config: Word2VecConfig  # validated by Word2VecConfig itself
    device: str

    @property
    def settings(self) -> dict:
        """What a training run is built from: the corpus and every config field."""
        return {"corpus": self.corpus_key} | dataclasses.asdict(self.config)


@st.cache_data(max_entries=8, show_spinner="Counting the words…")
def vocabulary(key: str, _sentences: list) -> tuple[pd.DataFrame, dict]:
    return vocabulary_stats(_sentences)


def follow_corpus(page: LessonPage, corpus: str) -> None:
    """Query words follow the corpus: a switch of corpus puts its own default words in the inputs."""
    seen = page.result("query-corpus")
    if seen != corpus:
        for name, value in corpus_settings(corpus).items():
            if seen is not None or not page.has_value(name):
                page.set_value(name, value)
        page.keep("query-corpus", corpus)


def controls(page: LessonPage) -> Lesson | None:
    c_corpus, c_arch, c_epochs = st.columns([4, 2, 1])
    with c_corpus:
        picked = page.corpus("wiki")
    if picked is None:
        return None
    corpus_key, corpus_label, sentences = picked
    follow_corpus(page, page.value("corpus", "wiki"))
    page.widget(
        c_arch.radio,
        "arch",
        "Architecture",
        list(ARCHITECTURES),
        default="skipgram",
        format_func=ARCHITECTURES.get,
        horizontal=True,
        help="Skip-gram: the centre word predicts each word of its context. CBOW: the mean of the "
        "context words' vectors predicts the centre word.",
    )
    page.widget(c_epochs.number_input, "epochs", "Epochs", 1, 50, default=3)
    h = st.columns(7)
    page.widget(h[0].number_input, "dim", "Dimension d", 1, 300, default=100, help="Numbers per word vector")
    page.widget(h[1].slider, "window", "Window", 1, 20, default=5, help="Largest distance of a context word")
    page.widget(h[2].slider, "negatives", "Negatives K", 1, 25, default=5, help="Noise words per true pair")
    page.widget(
        h[3].slider,
        "ns_exponent",
        "Noise exponent α",
        0.0,
        1.0,
        step=0.05,
        default=0.75,
        help="Noise words are drawn with probability ∝ count^α (1 = unigram, 0 = uniform)",
    )
    page.widget(
        h[4].selectbox,
        "subsample",
        "Subsampling t",
        SUBSAMPLES,
        default=1e-3,
        format_func=lambda t: "off" if t == 0 else f"{t:g}",
        help="Words more frequent than t are dropped at random (0 = off)",
    )
    page.widget(h[5].number_input, "min_count", "min_count", 1, 10_000, default=5, help="Rarer words are left out")
    page.widget(
        h[6].number_input,
        "lr",
        "Learning rate",
        0.001,
        0.5,
        step=0.005,
        format="%.3f",
        default=0.025,
        help="Decays linearly",
    )
    with advanced_controls():
        a1, a2, _ = st.columns(3)
        page.widget(a1.number_input, "seed", "Seed", 0, 1_000_000, default=0)
        page.widget(
            a2.number_input,
            "batch_size",
            "Batch size (0 = automatic)",
            0,
            65_536,
            default=0,
            help="Training pairs per SGD step (CBOW: windows). Automatic: 1,024 on a CPU, more on a GPU.",
        )
    config = page.config(Word2VecConfig, "The word2vec settings", batch_size=page.value("batch_size") or None)
    if config is None:
        return None
    frame, stats = vocabulary(corpus_key, sentences)
    vocab = in_vocabulary(frame, config.min_count)
    if vocab.empty:
        st.warning(
            f"No word of {corpus_label} occurs min_count = {config.min_count} times (the most "
            f"frequent occurs {int(frame['count'].max()) if len(frame) else 0:,} times): the "
            "vocabulary is empty. Lower min_count or use a larger corpus."
        )
    elif config.window >= stats["longest"]:
        st.warning(
            f"The window ({config.window}) reaches past every sentence: the longest has "
            f"{stats['longest']} words, so every context is already the whole sentence and a "
            "larger window changes nothing."
        )
    return Lesson(corpus_key, corpus_label, sentences, frame, stats, vocab, config, page.device)
