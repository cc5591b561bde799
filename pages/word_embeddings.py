"""Word embeddings (Lecture 2): one-hot against dense vectors, negative sampling made visible, word2vec
trained live, and its vectors evaluated beside gensim's. Each tab is a module of app/word2vec_lesson/."""

import hashlib

import streamlit as st

from app.errors import friendly_errors
from app.lecture import advanced_controls, presets_bar
from app.navigation import require_entry_script
from app.resources import corpus_picker
from app.training import get_run
from app.word2vec_lesson import (
    corpus_tab,
    evaluate_tab,
    negative_sampling_tab,
    onehot_tab,
    train_tab,
)
from app.word2vec_lesson.lesson import STATE, URL, P, load_lesson
from app.word2vec_lesson.train_tab import GROUPS, WIKI_GROUPS
from app.word2vec_lesson.trainer import ARCHITECTURES

require_entry_script()

TABS = ["Corpus", "One-hot vs dense", "Negative sampling", "Train live", "Evaluate"]
SUBSAMPLES = [0.0, 1e-5, 1e-4, 1e-3, 1e-2]

BASE = {
    "corpus": "wiki",
    "arch": "skipgram",
    "dim": 100,
    "window": 5,
    "neg": 5,
    "alpha": 0.75,
    "sample": 1e-3,
    "mincount": 5,
    "lr": 0.025,
    "epochs": 3,
    "groups": WIKI_GROUPS,
    "query": "january",
    "a": "he",
    "b": "his",
    "c": "she",
}


def preset(tab: str, **changes) -> dict:
    """A full set of settings (so a preset never inherits a stray value) and the tab to open."""
    return {f"{P}{key}": value for key, value in (BASE | changes).items()} | {f"{P}tab": tab}


TOY = dict(corpus="toy", dim=32, window=4, mincount=2, epochs=2, query="king", a="man", b="king")
TOY |= dict(c="woman", groups=GROUPS + "; walked walks ate eats")
PRESETS = {
    "Lecture demo: toy world analogies": preset("Train live", **TOY),
    "Lecture demo: skip-gram vs CBOW": preset("Train live", arch="cbow"),
    "Lecture demo: 5 vs 15 negatives": preset("Train live", **TOY, neg=15),
    "Lecture demo: no subsampling": preset("Corpus", sample=0.0),
    "Lecture demo: unigram noise (α = 1)": preset("Negative sampling", alpha=1.0),
}

st.title("🧭 Word embeddings")
st.markdown(
    "A **one-hot** vector gives each word its own axis: *cat* and *dog* are as unrelated as *cat* and "
    "*democracy*, and a vocabulary of 10,000 words needs 10,000 numbers per word. **Word2vec** learns "
    "a short dense vector per word instead, trained so that a word's vector predicts its neighbours; "
    "words used in similar contexts end up close, and directions in the space carry meaning "
    "(*king − man + woman ≈ queen*, when the corpus says so)."
)
names = list(PRESETS)
presets_bar(P, {name: PRESETS[name] for name in names[:3]})
presets_bar(P, {name: PRESETS[name] for name in names[3:]})

# ============================================================================ corpus and hyperparameters
c_corpus, c_arch, c_epochs = st.columns([4, 2, 1])
with c_corpus:
    with friendly_errors("Reading the corpus"):
        label, picked = corpus_picker(P)
        choice = st.session_state.get(f"{P}corpus", "wiki")
        if choice == "user":
            text = "\n".join(" ".join(s) for s in picked).encode("utf-8")
            choice = "user:" + hashlib.sha1(text).hexdigest()[:16]
        st.session_state[f"{STATE}corpus"] = (choice, label, picked)
arch = c_arch.radio(
    "Architecture",
    list(ARCHITECTURES),
    format_func=ARCHITECTURES.get,
    horizontal=True,
    key=f"{P}arch",
    help="Skip-gram: each context word predicts the centre word. CBOW: the mean of the context "
    "words' vectors predicts it.",
    **URL,
)
epochs = c_epochs.number_input("Epochs", 1, 50, 3, key=f"{P}epochs", **URL)
h = st.columns(7)
dim = h[0].number_input(
    "Dimension d", 1, 300, 100, key=f"{P}dim", help="Numbers per word vector", **URL
)
window = h[1].slider(
    "Window", 1, 20, 5, key=f"{P}window", help="Largest distance of a context word", **URL
)
negatives = h[2].slider(
    "Negatives K", 1, 25, 5, key=f"{P}neg", help="Noise words per true pair", **URL
)
exponent = h[3].slider(
    "Noise exponent α",
    0.0,
    1.0,
    0.75,
    0.05,
    key=f"{P}alpha",
    help="Noise words are drawn with probability ∝ count^α (1 = unigram, 0 = uniform)",
    **URL,
)
subsample = h[4].selectbox(
    "Subsampling t",
    SUBSAMPLES,
    index=SUBSAMPLES.index(1e-3),
    format_func=lambda t: "off" if t == 0 else f"{t:g}",
    key=f"{P}sample",
    help="Words more frequent than t are dropped at random (0 = off)",
    **URL,
)
min_count = h[5].number_input(
    "min_count", 1, 10_000, 5, key=f"{P}mincount", help="Rarer words are left out", **URL
)
lr = h[6].number_input(
    "Learning rate", 0.001, 0.5, 0.025, 0.005, "%.3f", key=f"{P}lr", help="Decays linearly", **URL
)
with advanced_controls():
    a1, a2, _ = st.columns(3)
    seed = a1.number_input("Seed", 0, 1_000_000, 0, key=f"{P}seed", **URL)
    batch_size = a2.number_input(
        "Batch size (0 = automatic)",
        0,
        65_536,
        0,
        key=f"{P}batch",
        help="Training pairs per SGD step (CBOW: windows). Automatic: 1,024 on a CPU, more on a GPU.",
        **URL,
    )

lesson = load_lesson(
    dict(
        arch=arch,
        dim=dim,
        window=window,
        negatives=negatives,
        exponent=exponent,
        subsample=subsample,
        min_count=min_count,
        lr=lr,
        epochs=epochs,
        seed=seed,
        batch_size=batch_size,
    )
)

tab_corpus, tab_onehot, tab_negatives, tab_train, tab_evaluate = st.tabs(TABS, key=f"{P}tab", **URL)
run = get_run(P)
with tab_corpus:
    corpus_tab.render(lesson)
with tab_onehot:
    onehot_tab.render(lesson, run)
with tab_negatives:
    negative_sampling_tab.render(lesson, run)
with tab_train:
    train_tab.render(lesson)
with tab_evaluate:
    evaluate_tab.render(lesson)
