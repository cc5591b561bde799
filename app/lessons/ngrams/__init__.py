"""The n-gram smoothing lesson (Lecture 3): one module per tab; `controls` counts and smooths what they share.

data.py counts the corpus and builds the models (cache.py caches them); tables.py and figures.py turn the
results into frames and charts, with labels.py naming each smoothing; overview.py smooths the counts every way
(its metrics_row is the lesson's `summary` above the tabs); each *_tab.py draws one tab (TITLE and render(page)).
"""

import streamlit as st

from app.lecture import advanced_controls
from app.lessons.ngrams import (
    cache,
    counts_tab,
    generate_tab,
    kneser_ney_tab,
    overview,
    perplexity_tab,
    sentence_tab,
    vocabulary_tab,
)
from app.lessons.ngrams.data import MAX_ORDER
from app.lessons.ngrams.labels import CHOICES, MENU
from app.page import LessonPage, Preset
from models.ngrams.model import NGramConfig

INTRO = (
    "An n-gram model predicts each word from the **n − 1 words before it**, by counting. Counts alone "
    "(maximum likelihood) give **probability 0** to everything never seen after a context, so one new word "
    "pair makes a whole text impossible. **Smoothing** takes a little mass from what was seen and gives it "
    "to the unseen; **held-out perplexity** says which way of doing it generalises (lower is better, and "
    "only comparable over the same vocabulary)."
)

PRESETS = {  # full state: settings not named go back to their defaults; each opens the tab that shows it
    "Lecture demo: add-one is terrible": Preset(
        "Add-one (k = 1) hands most of the probability after “of the” to words never seen there, and its "
        "held-out perplexity is many times Kneser-Ney's.",
        tab=counts_tab.TITLE,
        values={"smoothing": "add_k", "k": 1.0, "order": 3, "context": "of the"},
    ),
    "Lecture demo: zero counts break MLE": Preset(
        "Unsmoothed counts give one unseen word pair probability 0, so the whole sentence gets "
        "probability 0 and infinite perplexity.",
        tab=sentence_tab.TITLE,
        values={"smoothing": "mle", "order": 3, "sentence": "the moon is made of green cheese"},
    ),
    "Lecture demo: KN vs absolute discounting": Preset(
        "After “visited”, Kneser-Ney gives “york” far less than absolute discounting does: it only ever follows “new”.",
        tab=counts_tab.TITLE,
        values={
            "smoothing": "kneser_ney",
            "order": 2,
            "discount": 0.75,
            "context": "visited",
            "extra": "york angeles",
            "log_y": True,
        },
    ),
    "Lecture demo: the San Francisco effect": Preset(
        "“york” is frequent, but nearly every occurrence follows “new”: few distinct left neighbours, "
        "so a small Kneser-Ney continuation probability.",
        tab=kneser_ney_tab.TITLE,
        values={"word": "york", "order": 2},
    ),
    "Lecture demo: the vocabulary cut": Preset(
        "min_count = 5 turns rare words into <unk>: the vocabulary shrinks and perplexity drops without a "
        "better model; pin one and change min_count to compare.",
        tab=vocabulary_tab.TITLE,
        values={"min_count": 5, "smoothing": "kneser_ney"},
    ),
}
TABS = [
    counts_tab,
    kneser_ney_tab,
    perplexity_tab,
    sentence_tab,
    generate_tab,
    vocabulary_tab,
]


def controls(page: LessonPage):
    """Corpus, split, vocabulary cut and smoothing: counted once, smoothed every way."""
    corpus_col, fraction_col, cut_col = st.columns([3, 2, 2])
    with corpus_col:
        corpus = page.corpus()
    page.widget(fraction_col.slider, "heldout", "Held-out fraction", 0.05, 0.5, step=0.05, default=0.1)
    page.widget(
        cut_col.number_input,
        "min_count",
        "Vocabulary cut: min_count",
        1,
        1000,
        default=1,
        help="Words seen fewer times than this in training become <unk>.",
    )
    order_col, smoothing_col, k_col, d_col = st.columns([2, 3, 1, 1])
    page.widget(order_col.slider, "order", "Order n", 1, MAX_ORDER, default=3)
    _accept_menu_names(page)  # a link may name the smoothing as the menu does ("add-k")
    page.widget(
        smoothing_col.selectbox,
        "smoothing",
        "Smoothing",
        list(MENU),
        format_func=MENU.get,
        default="kneser_ney",
        help="MLE: raw counts. Stupid backoff gives a score, not a probability (no perplexity).",
    )
    page.widget(
        k_col.number_input,
        "k",
        "add-k: k",
        0.0,
        10.0,
        step=0.01,
        format="%.4g",
        default=1.0,
        help="1 = Laplace",
    )
    page.widget(
        d_col.number_input,
        "discount",
        "Discount D",
        0.0,
        1.0,
        step=0.05,
        default=0.75,
        help="Absolute discounting and Kneser-Ney subtract D from every seen count.",
    )
    with advanced_controls():
        seed_col, backoff_col = st.columns(2)
        page.widget(seed_col.number_input, "split_seed", "Split seed", 0, 1_000_000, default=0)
        page.widget(
            backoff_col.slider,
            "backoff",
            "Stupid backoff factor",
            0.05,
            1.0,
            step=0.05,
            default=0.4,
        )
    config = page.config(NGramConfig, "The n-gram settings")
    data = None
    if corpus is not None and config is not None:
        key, label, sentences = corpus
        data = page.compute(
            "data",
            "Splitting and counting the corpus",
            cache.count_corpus,
            key,
            label,
            sentences,
            page.value("heldout"),
            int(page.value("split_seed")),
            config.min_count,
        )
    if data is None or config is None:
        return None
    # everything below is drawn from the last valid corpus and settings, so bad input keeps it on screen
    return page.compute("smoothed", "Smoothing the counts", overview.smooth, data, config)


def summary(page: LessonPage, smoothed) -> None:
    """The metrics above the tabs (outside the settings, which presenter mode folds away)."""
    overview.metrics_row(smoothed)


def _accept_menu_names(page: LessonPage) -> None:
    if page.value("smoothing") in CHOICES:
        page.set_value("smoothing", CHOICES[page.value("smoothing")])
