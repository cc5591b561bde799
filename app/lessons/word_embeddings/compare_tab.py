"""The Compare tab: two word2vec runs trained side by side on the same corpus, differing in one thing
(skip-gram against CBOW, each at a learning rate under which it works; or 5 against 15 negatives), with
what can be compared: evaluation scores, neighbours and speed."""

from __future__ import annotations

import dataclasses

import numpy as np
import streamlit as st

from app.lessons.word_embeddings import figures
from app.lessons.word_embeddings.evaluation import evaluate
from app.lessons.word_embeddings.trainer import CBOW_LR, TICKS_PER_EPOCH, PairTrainer
from app.lessons.word_embeddings.vector_space import neighbours_frame, parse_words
from app.page import LessonPage

TITLE = "Compare two runs"
COMPARISONS = {"arch": "skip-gram vs CBOW", "negatives": "5 vs 15 negatives"}
EXPLAIN = {
    "arch": "Both architectures learn from the same windows. **Skip-gram**: the centre word predicts "
    "each context word, one pair at a time, so a window of 2·w words makes up to 2·w examples. "
    "**CBOW**: the *mean* of the context words' vectors predicts the centre word, one example per "
    "window: fewer, smoother updates, so it is faster per epoch and needs a larger learning rate "
    "(here 0.1 against skip-gram's 0.025); at skip-gram's rate on a small corpus its vectors "
    "collapse onto one direction. Every other setting is shared.",
    "negatives": "The same run with K = 5 and K = 15 noise words per true pair. The loss sums K + 1 "
    "terms, so with more negatives it sits higher: the curves cannot be compared. The evaluation "
    "scores can (same test words, same corpus). More negatives cost time per pair.",
}


def configs(page: LessonPage) -> dict:
    """{label: config}: the shared settings with the one difference being compared."""
    config = page.data.config
    if page.value("compare") == "negatives":
        return {f"K = {k}": dataclasses.replace(config, negatives=k) for k in (5, 15)}
    return {
        "skip-gram": dataclasses.replace(config, arch="skipgram", lr=page.value("compare_sg_lr")),
        "CBOW": dataclasses.replace(config, arch="cbow", lr=page.value("compare_cbow_lr")),
    }


def render(page: LessonPage) -> None:
    lesson = page.data
    c0, c1, c2 = st.columns([2, 1, 1])
    page.widget(
        c0.radio, "compare", "Compare", list(COMPARISONS), default="arch", format_func=COMPARISONS.get, horizontal=True
    )
    by_arch = page.value("compare") == "arch"
    page.widget(
        c1.number_input,
        "compare_sg_lr",
        "Skip-gram learning rate",
        0.001,
        0.5,
        step=0.005,
        format="%.3f",
        default=0.025,
        disabled=not by_arch,
    )
    page.widget(
        c2.number_input,
        "compare_cbow_lr",
        "CBOW learning rate",
        0.001,
        0.5,
        step=0.005,
        format="%.3f",
        default=CBOW_LR,
        disabled=not by_arch,
    )
    st.markdown(EXPLAIN[page.value("compare")])
    pair = page.compute("compare-configs", "The two settings", configs, page)
    if pair is None:
        return
    settings = {"corpus": lesson.corpus_key} | {
        f"{label} {k}": v for label, c in pair.items() for k, v in dataclasses.asdict(c).items()
    }
    page.train(
        lambda: PairTrainer(lesson.sentences, pair, lesson.device),
        lesson.config.epochs * TICKS_PER_EPOCH,
        run="compare",
        settings=settings,
        render=lambda run: render_pair(page, run),
        device=lesson.device,
        label=f"{' vs '.join(pair)}, {lesson.corpus_label}",
    )


def render_pair(page: LessonPage, run) -> None:
    trainer: PairTrainer = run.trainer
    labels = list(trainer.trainers)
    same_k = len({c.negatives for c in trainer.configs.values()}) == 1
    left, right = st.columns([1, 1])
    with left:
        figure = figures.pair_loss_figure(run.history_frame(), labels, comparable=same_k)
        page.chart(figure, run.history_frame(), "w2v-pair")
        if run.running:
            st.caption("The scores are computed when training pauses or finishes.")
    scores = None if run.running else pair_scores(page, run)
    word = (parse_words(page.value("train.query", "")) or [""])[0]
    with right:
        for column, label in zip(st.columns(2), labels):
            draw_side(page, column, label, trainer, scores, word)


def draw_side(page: LessonPage, column, label: str, trainer: PairTrainer, scores: dict | None, word: str) -> None:
    ticked, config, seconds = (
        trainer.trainers[label],
        trainer.configs[label],
        trainer.seconds[label],
    )
    model = ticked.model
    column.markdown(f"**{label}** · lr {config.lr:g} · K = {config.negatives}")
    m1, m2 = column.columns(2)
    m1.metric(
        "Words / s",
        f"{model.words_processed / max(seconds, 1e-9):,.0f}",
        help=f"{model.pairs_processed:,} examples in {seconds:.1f} s of training",
    )
    if scores is not None:
        result = scores[label]
        if result["analogy_set"] == "toy":
            name, value = "Analogies solved", result["analogies"]["accuracy"]
        else:
            name, value = "WordSim-353 ρ", result["wordsim"]["spearman"]
        m2.metric(
            name,
            "–" if value is None or not np.isfinite(value) else f"{value:.3f}",
            help="Toy world: share of its analogy questions solved. Otherwise: Spearman correlation of "
            "cosines with human similarity ratings (WordSim-353, covered pairs).",
        )
    with column:
        draw_neighbours(page, ticked, word, label)


def pair_scores(page: LessonPage, run) -> dict:
    """Both runs' evaluation, once per run and step count."""
    key = (run.run_id, run.steps_done)
    stored = page.result("pair-scores")
    if stored is not None and stored[0] == key:
        return stored[1]
    with st.spinner("Scoring both runs on WordSim-353, SimLex-999 and analogies…"):
        corpus = run.settings["corpus"]
        scores = {label: evaluate(ticked.keyed_vectors(), corpus) for label, ticked in run.trainer.trainers.items()}
    page.keep("pair-scores", (key, scores))
    return scores


def draw_neighbours(page: LessonPage, ticked, word: str, label: str) -> None:
    kv = ticked.keyed_vectors()
    if not word:
        st.info("Type a word under *Nearest neighbours of* (Train live tab) to compare.")
        return
    if word not in kv:
        st.info(f"'{word}' is not in the vocabulary of this corpus.")
        return
    table = neighbours_frame(kv, word, k=8)
    st.markdown(f"Nearest neighbours of **{word}** ({label})")
    page.table(
        table[["rank", "word", "cosine"]].style.format({"cosine": "{:.3f}"}),
        hide_index=True,
        width="stretch",
    )
