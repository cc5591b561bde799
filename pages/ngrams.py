"""N-gram smoothing: counts, zero counts, where smoothing moves the mass, held-out perplexity
(Lecture 3).

Each tab is drawn by its own module in app/ngram_lesson/; this page holds the controls they share.
"""

import streamlit as st

from app.errors import friendly_errors
from app.lecture import advanced_controls, presets_bar
from app.navigation import require_entry_script
from app.ngram_lesson import (
    counts_tab,
    generate_tab,
    kneser_ney_tab,
    overview,
    perplexity_tab,
    sentence_tab,
    vocabulary_tab,
)
from app.ngram_lesson.cache import count_corpus
from app.ngram_lesson.data import MAX_ORDER, Data
from app.ngram_lesson.keys import STATE, URL, P
from app.ngram_lesson.labels import CHOICES
from app.resources import corpus_picker
from models.ngram import NGramConfig

require_entry_script()

TABS = [
    "Counts and smoothing",
    "Kneser-Ney's idea",
    "Perplexity curves",
    "Score a sentence",
    "Generate",
    "Vocabulary cut",
]

st.title("🧮 N-gram smoothing")
st.markdown(
    "An n-gram model predicts each word from the **n − 1 words before it**, by counting. Counts alone "
    "(maximum likelihood) give **probability 0** to everything never seen after a context, so one new word "
    "pair makes a whole text impossible. **Smoothing** takes a little mass from what was seen and gives it "
    "to the unseen; **held-out perplexity** says which way of doing it generalises (lower is better, and "
    "only comparable over the same vocabulary)."
)
PRESETS = {
    "Lecture demo: add-one is terrible": {
        f"{P}smoothing": "add-k",
        f"{P}k": 1.0,
        f"{P}order": 3,
        f"{P}context": "of the",
        f"{P}logy": False,
        f"{P}zoom": False,
    },
    "Lecture demo: zero counts break MLE": {
        f"{P}smoothing": "MLE",
        f"{P}order": 3,
        f"{P}sentence": "the moon is made of green cheese",
    },
    "Lecture demo: Kneser-Ney vs absolute discounting": {
        f"{P}smoothing": "Kneser-Ney",
        f"{P}order": 2,
        f"{P}discount": 0.75,
        f"{P}context": "visited",
        f"{P}extra": "york angeles",
        f"{P}logy": True,
        f"{P}zoom": True,
    },
    "Lecture demo: the San Francisco effect": {
        f"{P}word": "york",
        f"{P}order": 2,
        f"{P}context": "new",
        f"{P}extra": "york",
    },
    "Lecture demo: the vocabulary cut": {f"{P}min_count": 5, f"{P}smoothing": "Kneser-Ney"},
}
for names in (list(PRESETS)[:3], list(PRESETS)[3:]):  # two rows, so the names fit
    presets_bar(P, {name: PRESETS[name] for name in names})

corpus_col, fraction_col, cut_col = st.columns([3, 2, 2])
with corpus_col:
    sentences = None
    with friendly_errors("Reading the corpus"):
        corpus_label, sentences = corpus_picker(P)
fraction = fraction_col.slider("Held-out fraction", 0.05, 0.5, 0.1, 0.05, key=f"{P}heldout", **URL)
min_count = cut_col.number_input(
    "Vocabulary cut: min_count",
    1,
    1000,
    1,
    key=f"{P}min_count",
    help="Words seen fewer times than this in training become <unk>.",
    **URL,
)
order_col, smoothing_col, k_col, d_col = st.columns([2, 3, 1, 1])
order = order_col.slider("Order n", 1, MAX_ORDER, 3, key=f"{P}order", **URL)
smoothing_name = smoothing_col.selectbox(
    "Smoothing",
    list(CHOICES),
    index=list(CHOICES).index("Kneser-Ney"),
    key=f"{P}smoothing",
    help="MLE: raw counts. Stupid backoff gives a score, not a probability (no perplexity).",
    **URL,
)
smoothing = CHOICES[smoothing_name]
k = k_col.number_input(
    "add-k: k", 0.0, 10.0, 1.0, 0.01, "%.4g", key=f"{P}k", help="1 = Laplace", **URL
)
discount = d_col.number_input(
    "Discount D",
    0.0,
    1.0,
    0.75,
    0.05,
    key=f"{P}discount",
    help="Absolute discounting and Kneser-Ney subtract D from every seen count.",
    **URL,
)
with advanced_controls():
    seed_col, backoff_col = st.columns(2)
    split_seed = seed_col.number_input("Split seed", 0, 1_000_000, 0, key=f"{P}split_seed", **URL)
    backoff = backoff_col.slider(
        "Stupid backoff factor", 0.05, 1.0, 0.4, 0.05, key=f"{P}backoff", **URL
    )


if sentences is not None:
    with friendly_errors("Splitting and counting the corpus"):
        st.session_state[f"{STATE}data"] = count_corpus(
            corpus_label, sentences, fraction, split_seed, min_count
        )
with friendly_errors("Building the model"):
    st.session_state[f"{STATE}config"] = NGramConfig(
        order=int(order),
        smoothing=smoothing,
        k=float(k),
        discount=float(discount),
        backoff=float(backoff),
        min_count=int(min_count),
    )

data: Data | None = st.session_state.get(f"{STATE}data")
config: NGramConfig | None = st.session_state.get(f"{STATE}config")
if data is None or config is None:
    st.info("Pick a corpus and valid settings above; the lesson appears here.")
    st.stop()

# everything below is drawn from the last valid corpus and settings, so bad input keeps it on screen
lesson = overview.smooth(data, config)
overview.metrics_row(lesson)
tabs = st.tabs(TABS)
with tabs[0]:
    counts_tab.render(lesson)
with tabs[1]:
    kneser_ney_tab.render(lesson)
with tabs[2]:
    perplexity_tab.render(lesson)
with tabs[3]:
    sentence_tab.render(lesson)
with tabs[4]:
    generate_tab.render(lesson)
with tabs[5]:
    vocabulary_tab.render(lesson)
