"""The One-hot vs dense tab: one-hot vectors make every pair of words equally unrelated (cosine 0);
learned dense vectors share their d dimensions, so their cosines say which words are close."""

import numpy as np
import streamlit as st

from app.lessons.word_embeddings.vector_space import (
    cosine_figure,
    cosine_frame,
    learned_cosines,
    parse_words,
)
from app.page import LessonPage

TITLE = "One-hot vs dense"
MAX_WORDS = 12  # words in the cosine matrices


def render(page: LessonPage) -> None:
    lesson, run = page.data, page.run()
    vocab = lesson.vocab
    st.markdown(
        "The cosine similarity of two one-hot vectors is always 0: they share no non-zero entry, so "
        "every pair of different words is equally unrelated. Learned vectors share their d "
        "dimensions, so their cosines can say that *king* is closer to *queen* than to *france*."
    )
    words_text = page.widget(
        st.text_input,
        "words",
        f"Words to compare (up to {MAX_WORDS})",
        default="king queen man woman paris france",
    )
    kv = run.trainer.keyed_vectors() if run is not None else None
    known_words = set(kv.index_to_word) if kv is not None else set(vocab["word"])
    words = parse_words(words_text)[:MAX_WORDS]
    missing = [w for w in words if w not in known_words]
    words = [w for w in words if w in known_words]
    if missing:
        st.warning(f"Not in the vocabulary (absent from the corpus or rarer than min_count): {', '.join(missing)}.")
    if not words:
        st.info("Type a few words of the corpus to compare, e.g. king queen man woman.")
        return
    left, right = st.columns(2)
    with left:
        identity = np.eye(len(words))
        page.chart(
            cosine_figure(identity, words, "One-hot vectors: cosine similarity"),
            cosine_frame(identity, words),
            "w2v-onehot-cosines",
        )
        n_vocab = len(kv) if kv is not None else len(vocab)
        st.caption(
            f"Each one-hot vector has V = {n_vocab:,} entries, {n_vocab - 1:,} of them 0: the "
            "matrix is the identity whatever the words."
        )
    with right:
        if kv is None:
            st.info(
                "Train first (the **Train live** tab): the learned cosine similarities of "
                "these words appear here, from the current or last training run."
            )
            return
        cosines = learned_cosines(kv, words)
        state = "training" if run.running else f"step {run.steps_done}/{run.total_steps}"
        page.chart(
            cosine_figure(cosines, words, f"Learned vectors (d = {kv.vectors.shape[1]})"),
            cosine_frame(cosines, words),
            "w2v-dense-cosines",
        )
        st.caption(
            f"From the run '{run.label}' ({state}); each vector has "
            f"{kv.vectors.shape[1]} entries, none of them 0. On a small corpus all "
            "cosines are high (the vectors share a common direction): what carries "
            "meaning is which words are closer than others."
        )
