"""Tab "Counts and smoothing": where each smoothing moves the probability mass.

For one context: the training count of each next word, its maximum-likelihood estimate, what each
smoothing makes of it, and how much mass went to words never seen after the context.
"""

import streamlit as st

from app.lessons.ngrams import figures, labels, tables
from app.page import LessonPage
from models.ngrams.smoothing import SMOOTHINGS
from models.text import tokenize_words

TITLE = "Counts and smoothing"
MAX_EXTRA = 20  # extra next words drawn beside the top ones (a chart of thousands is unreadable)


def next_words(models, context_text: str, extra_text: str, top: int) -> dict:
    """The side-by-side table for the typed context, or a message for an empty one."""
    words = tokenize_words(context_text)
    if not words and next(iter(models.values())).config.order > 1:
        raise ValueError("The context is empty: type the word(s) before the next one, e.g. 'of the'.")
    extra = list(dict.fromkeys(tokenize_words(extra_text)))
    result = tables.side_by_side(models, words, top, extra[:MAX_EXTRA])
    return result | {"extra_asked": len(extra)}


def render(page: LessonPage) -> None:
    lesson = page.data
    data, models = lesson.data, lesson.models
    st.markdown(
        "For one context, the training **count** of each next word, its maximum-likelihood estimate "
        "c(h w) / c(h), and what each smoothing makes of it (same order, k and D). Smoothing lowers the "
        "seen words a little; the second chart shows **how much mass went to words never seen after the "
        "context**."
    )
    c1, c2, c3, c4 = st.columns([3, 3, 2, 1])
    page.widget(c1.text_input, "context", "Context: the words before the next one", default="of the")
    page.widget(c2.text_input, "extra", "Also show these next words", default="", placeholder="york angeles")
    page.widget(c3.slider, "top", "Top next words", 3, 30, default=10)
    page.widget(c4.toggle, "log_y", "log scale", default=False)
    result = page.compute(
        "context",
        "Reading the context",
        next_words,
        models,
        page.value("context"),
        page.value("extra"),
        page.value("top"),
    )
    if result is None:
        return
    if result["extra_asked"] > MAX_EXTRA:
        st.info(f"Showing the first {MAX_EXTRA} of the {result['extra_asked']:,} extra words.")
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
    context = " ".join(result["used"]) or "any context"
    figure = figures.next_word_bars(table, list(SMOOTHINGS), page.value("log_y"), context)
    page.chart(figure, table, "next-words")
    number_format = {labels.SHORT[s]: "{:.4g}" for s in SMOOTHINGS}
    page.table(table.style.format(number_format), hide_index=True, width="stretch")
    mass = result["mass"].drop(columns="key")
    page.chart(figures.mass_bars(mass, context), mass, "mass")
    st.caption(
        "Add-one hands most of the mass to the tens of thousands of unseen words. Stupid backoff "
        "(hatched) is a **score, not a probability**: its total is not 1, so it has no perplexity."
    )
