"""What every tab of the word-embeddings lesson shares: key prefixes, the corpus and its vocabulary, the
settings built from the shared controls, and the current run's word vectors.

`load_lesson` runs after the controls: it takes the corpus the picker stored (or stops the page with a hint),
counts its words (cached), builds the trainer's settings and warns about settings that cannot work.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pandas as pd
import streamlit as st

from app.sidebar import current_device
from app.word2vec_lesson.corpus_stats import in_vocabulary, vocabulary_stats

P = "we_"  # this page's prefix for widget keys, query parameters and the kit's run
STATE = "we:"  # results (never stored under widget keys)
URL = dict(bind="query-params")


@dataclass
class Lesson:
    """The corpus, what follows from it, and the controls' values as the widgets returned them."""

    corpus_key: str  # 'wiki', 'toy', … or 'user:<sha1 of the text>'
    corpus_label: str
    sentences: list  # lists of words
    frame: pd.DataFrame  # every distinct word: rank, word, count (most frequent first)
    stats: dict  # sentences, tokens, distinct, longest, median_length
    vocab: pd.DataFrame  # the rows of frame with count >= min_count
    settings: dict  # the trainer's settings (make_config), also the run's
    device: str
    arch: str
    dim: int
    window: int
    negatives: int
    exponent: float  # noise exponent α
    subsample: float  # subsampling threshold t (0 = off)
    min_count: int
    lr: float
    epochs: int
    seed: int
    batch_size: int  # 0 = automatic


@st.cache_data(max_entries=8, show_spinner="Counting the words…")
def vocabulary(key: str, _sentences: list) -> tuple[pd.DataFrame, dict]:
    return vocabulary_stats(_sentences)


def settings_key(values: dict) -> str:
    return json.dumps(values, sort_keys=True)


def vectors_of(run):
    """The run's word vectors, snapshotted once per chunk."""
    key = (run.run_id, run.steps_done)
    cached = st.session_state.get(f"{STATE}kv")
    if cached is None or cached[0] != key:
        cached = (key, run.trainer.model.keyed_vectors())
        st.session_state[f"{STATE}kv"] = cached
    return cached[1]


def load_lesson(controls: dict) -> Lesson:
    """The lesson for the controls' values (Lesson's last fields); without a corpus, stop the page."""
    stored_corpus = st.session_state.get(f"{STATE}corpus")
    if stored_corpus is None:
        st.info("Pick a corpus (or paste a text) above; the lesson appears here.")
        st.stop()
    corpus_key, corpus_label, sentences = stored_corpus
    picked = st.session_state.get(f"{P}corpus", "wiki")
    if corpus_key != picked and not corpus_key.startswith("user:"):
        st.caption(f"Still using the last corpus that worked: {corpus_label}.")
    frame, stats = vocabulary(corpus_key, sentences)
    min_count, window = controls["min_count"], controls["window"]
    vocab = in_vocabulary(frame, int(min_count))
    device = current_device()
    settings = {
        "corpus": corpus_key,
        "arch": controls["arch"],
        "dim": int(controls["dim"]),
        "window": int(window),
        "negatives": int(controls["negatives"]),
        "ns_exponent": float(controls["exponent"]),
        "subsample": float(controls["subsample"]),
        "min_count": int(min_count),
        "lr": float(controls["lr"]),
        "epochs": int(controls["epochs"]),
        "seed": int(controls["seed"]),
        "batch_size": int(controls["batch_size"]),
    }
    if vocab.empty:
        st.warning(
            f"No word of {corpus_label} occurs min_count = {min_count} times (the most frequent occurs "
            f"{int(frame['count'].max()) if len(frame) else 0:,} times): the vocabulary is empty. "
            "Lower min_count or use a larger corpus."
        )
    elif window >= stats["longest"]:
        st.warning(
            f"The window ({window}) reaches past every sentence: the longest has {stats['longest']} "
            "words, so every context is already the whole sentence and a larger window changes nothing."
        )
    return Lesson(
        corpus_key, corpus_label, sentences, frame, stats, vocab, settings, device, **controls
    )
