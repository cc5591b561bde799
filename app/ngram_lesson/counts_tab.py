"""Tab "Counts and smoothing": where each smoothing moves the probability mass.

For one context: the training count of each next word, its maximum-likelihood estimate, what each
smoothing makes of it, and how much mass went to words never seen after the context.
"""

import streamlit as st

from app.errors import friendly_errors
from app.lecture import show_chart
from app.ngram_lesson import figures, labels, tables
from app.ngram_lesson.data import Lesson
from app.ngram_lesson.keys import STATE, URL, P
from models.ngram_smoothing import SMOOTHINGS
from models.text import tokenize_words

MAX_EXTRA = 20  # extra next words drawn beside the top ones (a chart of thousands is unreadable)


def render(lesson: Lesson) -> None:
    data, config, models = lesson.data, lesson.config, lesson.models
    st.markdown(
        "For one context, the training **count** of each next word, its maximum-likelihood estimate "
        "c(h w) / c(h), and what each smoothing makes of it (same order, k and D). Smoothing lowers the "
        "seen words a little; the second chart shows **how much mass went to words never seen after the "
        "context**."
    )
    c1, c2, c3, c4 = st.columns([3, 3, 2, 1])
    context_text = c1.text_input(
        "Context: the words before the next one", "of the", key=f"{P}context", **URL
    )
    extra_text = c2.text_input(
        "Also show these next words", "", key=f"{P}extra", placeholder="york angeles", **URL
    )
    top = c3.slider("Top next words", 3, 30, 10, key=f"{P}top", **URL)
    log_y = c4.toggle("log scale", key=f"{P}logy", **URL)
    with friendly_errors("Reading the context"):
        words = tokenize_words(context_text)
        if not words and config.order > 1:
            raise ValueError(
                "The context is empty: type the word(s) before the next one, e.g. 'of the'."
            )
        extra = list(dict.fromkeys(tokenize_words(extra_text)))
        if len(extra) > MAX_EXTRA:
            st.info(f"Showing the first {MAX_EXTRA} of the {len(extra):,} extra words.")
            extra = extra[:MAX_EXTRA]
        st.session_state[f"{STATE}context"] = tables.side_by_side(models, words, top, extra)
    result = st.session_state.get(f"{STATE}context")
    if result is not None:
        n_read = result["order"] - 1
        st.markdown(
            f"An order-{result['order']} model reads the last {n_read} word(s): "
            f"**{' '.join(result['used']) or '(nothing: a unigram model ignores the context)'}**, "
            f"seen **{result['context_count']:,}** times in training."
        )
        if result["oov"]:
            st.info(f"Not in the vocabulary, read as <unk>: {', '.join(result['oov'])}.")
        if result["context_count"] == 0:
            st.info(
                "This context never appears in training: MLE has no estimate (0 / 0), and the smoothings "
                "fall back to shorter contexts. Frequent contexts here: "
                + ", ".join(f"'{s}'" for s in tables.frequent_contexts(data.counts, max(n_read, 1)))
            )
        table = result["table"]
        figure = figures.next_word_bars(table, list(SMOOTHINGS), log_y)
        show_chart(figure, table, "ngram-next-words", P, key=f"{P}chart-next-words")
        number_format = {labels.SHORT[s]: "{:.4g}" for s in SMOOTHINGS}
        st.dataframe(table.style.format(number_format), hide_index=True, width="stretch")
        mass = result["mass"].drop(columns="key")
        show_chart(figures.mass_bars(mass), mass, "ngram-unseen-mass", P, key=f"{P}chart-mass")
        st.caption(
            "Add-one hands most of the mass to the tens of thousands of unseen words. Stupid backoff "
            "(hatched) is a **score, not a probability**: its total is not 1, so it has no perplexity."
        )
