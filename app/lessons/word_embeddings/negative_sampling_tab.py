"""The Negative sampling tab: instead of a softmax over the vocabulary, each training pair becomes K + 1
yes/no questions against noise words drawn from count^α; one real example is shown term by term."""

import json

import streamlit as st

from app.lessons.word_embeddings.negative_sampling import (
    corpus_pair,
    explain_figure,
    explain_frame,
    noise_figure,
    noise_frame,
)
from app.lessons.word_embeddings.trainer import ARCHITECTURES, config_of
from app.lessons.word_embeddings.vector_space import parse_words
from app.page import LessonPage
from models.word_embeddings.engine import Word2VecTrainer
from models.word_embeddings.evaluation import explain_pair
from models.word_embeddings.word2vec import noise_distribution

TITLE = "Negative sampling"


@st.cache_resource(max_entries=2, show_spinner="Building the vocabulary and the initial vectors…")
def initial_trainer(key: str, _sentences: list, _settings: dict) -> Word2VecTrainer:
    """An untrained trainer (read-only: explain_pair never updates it) for the view before training."""
    return Word2VecTrainer(_sentences, config_of(_settings), "cpu")


def pick_pair(page: LessonPage, sentences, vocabulary_words, arch, window) -> None:
    """on_click: fill the example's words with a real (centre, context) pair from the corpus."""
    draws = page.keep("draws", page.result("draws", 0) + 1)
    centre, context = corpus_pair(sentences, vocabulary_words, arch, window, seed=draws)
    page.set_value("centre", centre)
    page.set_value("context", " ".join(context))


def render(page: LessonPage) -> None:
    lesson = page.data
    exponent, vocab = lesson.config.ns_exponent, lesson.vocab
    st.markdown(
        "A softmax over the whole vocabulary is expensive. **Negative sampling** turns each training "
        "pair into K + 1 yes/no questions: is *this* the word that appeared here? The true word "
        "should get σ(u·v) near 1, and K **noise words**, drawn from count^α, near 0. The exponent "
        "α = 0.75 flattens the unigram distribution: frequent words are drawn less often than "
        "their share, rare words more often."
    )
    if vocab.empty:
        st.info("The vocabulary is empty at this min_count: lower it to see the noise distribution.")
        return
    noise_rows = noise_frame(lesson.frame, lesson.config.min_count, float(exponent), top=20)
    page.chart(noise_figure(noise_rows, float(exponent)), noise_rows, "w2v-noise")
    counts = vocab["count"].to_numpy()
    unigram = counts / counts.sum()
    noise = noise_distribution(counts, float(exponent))
    n1, n2, n3 = st.columns(3)
    n1.metric("10 most frequent words, share of the corpus", f"{unigram[:10].sum():.1%}")
    n2.metric(f"… share of the noise draws (α = {exponent:g})", f"{noise[:10].sum():.1%}")
    n3.metric(
        f"A word seen {int(counts[-1])} times is drawn",
        f"× {noise[-1] / unigram[-1]:.1f}",
        help="its noise probability over its unigram share",
    )
    render_example(page)


def render_example(page: LessonPage) -> None:
    """One training example: its centre and context words, σ(u·v) and loss term per target word."""
    lesson, run = page.data, page.run()
    st.subheader("One training example under the microscope")
    e1, e2, e3, e4 = st.columns([2, 3, 1, 2])
    page.widget(e1.text_input, "centre", "Centre word", default="", placeholder="from the corpus")
    page.widget(
        e2.text_input,
        "context",
        "Context word(s)",
        default="",
        placeholder="skip-gram: one word; CBOW: the window's words",
    )
    page.widget(e3.number_input, "noise_seed", "Noise seed", 0, 10_000, default=0)
    explained = page.compute("explain", "Explaining the example", explain, page, lesson, run, e4)
    if explained is not None:
        draw_example(page, *explained)


def explain(page: LessonPage, lesson, run, button_column) -> tuple:
    """The example for the typed words (or a real pair), scored with the run's or the initial vectors."""
    sentences = lesson.sentences
    centre_text, context_text = page.value("centre", ""), page.value("context", "")
    if run is not None and run.settings["corpus"] == lesson.corpus_key:
        trainer = run.trainer.model
        source = f"the vectors of the run '{run.label}' at step {run.steps_done}"
    else:
        key = json.dumps(lesson.settings, sort_keys=True)
        trainer = initial_trainer(key, sentences, lesson.settings)
        source = (
            "the **initial** vectors: the output vectors start at 0, so every σ is 0.5 and "
            "every loss term log 2 = 0.693 until you train (the **Train live** tab)"
        )
    button_column.button(
        "🎲 A real pair from the corpus",
        on_click=pick_pair,
        args=(
            page,
            sentences,
            set(trainer.vocab.words),
            trainer.config.arch,
            trainer.config.window,
        ),
        width="stretch",
        key=page.state_key("drawpair"),
    )
    centre_words, context_words = parse_words(centre_text), parse_words(context_text)
    if not centre_words and not context_words:
        centre, context = corpus_pair(
            sentences,
            set(trainer.vocab.words),
            trainer.config.arch,
            trainer.config.window,
            seed=0,
        )
    elif not centre_words or not context_words:
        raise ValueError("Type both a centre word and at least one context word.")
    else:
        centre, context = centre_words[0], context_words
    if trainer.config.arch == "skipgram" and len(context) > 1:
        st.caption(
            f"Skip-gram pairs the centre with one context word at a time: using "
            f"'{context[0]}'. (CBOW averages the whole window.)"
        )
        context = context[:1]
    seed = int(page.value("noise_seed", 0))
    explanation = explain_pair(trainer, centre, context, negatives_k=trainer.config.negatives, seed=seed)
    return explanation, source, trainer.config.arch


def draw_example(page: LessonPage, explanation: dict, source: str, used_arch: str) -> None:
    rows = explain_frame(explanation)
    context_shown = " ".join(explanation["context_words"])
    hidden = (
        f"the input vector of '{context_shown}'"
        if len(explanation["context_words"]) == 1
        else f"the mean input vector of '{context_shown}'"
    )
    st.markdown(
        f"**{ARCHITECTURES[used_arch]}** example: {hidden} is scored against the "
        f"output vector of the true centre word **'{explanation['centre_word']}'** and "
        f"of {len(rows) - 1} noise words. Computed with {source}."
    )
    left, right = st.columns(2)
    with left:
        page.chart(explain_figure(rows), rows, "w2v-example")
    with right:
        hidden_columns = ["role"] + ([] if rows["skipped"].any() else ["skipped"])
        page.table(
            rows.drop(columns=hidden_columns).style.format(
                {
                    "P(noise)": "{:.2e}",
                    "dot u·v": "{:.3f}",
                    "σ(dot)": "{:.3f}",
                    "loss term": "{:.3f}",
                    "label − σ": "{:+.3f}",
                }
            ),
            hide_index=True,
            width="stretch",
        )
        st.metric(
            "Loss of this example",
            f"{explanation['loss']:.3f}",
            help="−log σ(u·v_true) − Σ log σ(−u·v_noise), in nats",
        )
        st.caption(
            "The update moves each output vector along the hidden vector by "
            f"lr × (label − σ), lr = {explanation['lr']:.4f} now: the true word is pulled "
            "closer, the noise words pushed away. A noise word equal to the true word "
            "is skipped."
        )
