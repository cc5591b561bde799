"""The Skip-gram vs CBOW tab: both trained side by side on the same corpus, each with a learning rate
under which it works, their neighbours and scores next to each other, and what differs."""

from __future__ import annotations

import dataclasses

import pandas as pd
import streamlit as st

from app.lessons.word_embeddings import figures
from app.lessons.word_embeddings.evaluation import evaluate
from app.lessons.word_embeddings.trainer import ARCHITECTURES, CBOW_LR, TICKS_PER_EPOCH, PairTrainer
from app.lessons.word_embeddings.vector_space import neighbours_frame, parse_words
from app.page import LessonPage
from app.training import training_panel

TITLE = "Skip-gram vs CBOW"


def configs(page: LessonPage) -> dict:
    """The shared settings, with each architecture at its own learning rate."""
    config = page.data.config
    return {
        "skipgram": dataclasses.replace(config, arch="skipgram", lr=page.value("compare_sg_lr")),
        "cbow": dataclasses.replace(config, arch="cbow", lr=page.value("compare_cbow_lr")),
    }


def render(page: LessonPage) -> None:
    lesson = page.data
    st.markdown(
        "Both architectures learn from the same windows. **Skip-gram**: the centre word predicts "
        "each context word, one pair at a time, so a window of 2·w words makes up to 2·w "
        "examples. **CBOW**: the *mean* of the context words' vectors predicts the centre word, one "
        "example per window: fewer, smoother updates, so it is faster per epoch and needs a larger "
        "learning rate (here 0.1 against skip-gram's 0.025; word2vec.c's defaults are 0.05 and 0.025); with "
        "skip-gram's rate on a small corpus its vectors barely move apart. Both share every other "
        "setting above."
    )
    c1, c2, _ = st.columns([1, 1, 2])
    page.widget(c1.number_input, "compare_sg_lr", "Skip-gram learning rate", 0.001, 0.5,
                step=0.005, format="%.3f", default=0.025)  # fmt: skip
    page.widget(c2.number_input, "compare_cbow_lr", "CBOW learning rate", 0.001, 0.5,
                step=0.005, format="%.3f", default=CBOW_LR)  # fmt: skip
    pair = page.compute("compare-configs", "The two settings", configs, page)
    if pair is None:
        return
    settings = {"corpus": lesson.corpus_key} | {
        f"{arch} {k}": v for arch, c in pair.items() for k, v in dataclasses.asdict(c).items()
    }
    epochs = lesson.config.epochs
    training_panel(
        page.state_key("compare"),
        lambda: PairTrainer(lesson.sentences, pair, lesson.device),
        epochs * TICKS_PER_EPOCH,
        settings,
        lambda run: render_pair(page, run),
        device=lesson.device,
        label=f"skip-gram vs CBOW, {lesson.corpus_label}",
    )


def render_pair(page: LessonPage, run) -> None:
    trainer: PairTrainer = run.trainer
    left, right = st.columns([2, 3])
    with left:
        page.chart(figures.pair_loss_figure(run.history_frame()), run.history_frame(), "w2v-pair")
    word = (parse_words(page.value("query", "")) or [""])[0]
    scores = pair_scores(page, run) if not run.running else None
    with right:
        columns = st.columns(2)
        for column, (arch, ticked) in zip(columns, trainer.trainers.items()):
            name, config = ARCHITECTURES[arch], trainer.configs[arch]
            model = ticked.model
            seconds = trainer.seconds[arch]
            column.markdown(f"**{name}** · lr {config.lr:g}")
            column.metric(
                "Words / s",
                f"{model.words_processed / max(seconds, 1e-9):,.0f}",
                help=f"{model.pairs_processed:,} examples in {seconds:.1f} s of training",
            )
            if scores is not None:
                column.metric(
                    "WordSim-353 (Spearman ρ)",
                    f"{scores[arch]['wordsim']['spearman']:.3f}",
                    help="Correlation of cosines with human similarity ratings, covered pairs",
                )
            with column:
                draw_neighbours(ticked, word, name)
    if run.running:
        st.caption("The scores are computed when training pauses or finishes.")


def pair_scores(page: LessonPage, run) -> dict | None:
    """Both architectures' evaluation, once per run and step count."""
    key = (run.run_id, run.steps_done)
    stored = page.result("pair-scores")
    if stored is not None and stored[0] == key:
        return stored[1]
    with st.spinner("Scoring both runs on WordSim-353, SimLex-999 and analogies…"):
        corpus = run.settings["corpus"]
        scores = {
            arch: evaluate(ticked.keyed_vectors(), corpus)
            for arch, ticked in run.trainer.trainers.items()
        }
    st.session_state[page.state_key("pair-scores")] = (key, scores)
    return scores


def draw_neighbours(ticked, word: str, name: str) -> None:
    kv = ticked.keyed_vectors()
    if not word:
        st.info("Type a word under *Nearest neighbours of* (Train live tab) to compare.")
        return
    if word not in kv:
        st.info(f"'{word}' is not in the vocabulary of this corpus.")
        return
    table: pd.DataFrame = neighbours_frame(kv, word, k=8)
    st.markdown(f"Nearest neighbours of **{word}** ({name})")
    st.dataframe(
        table[["rank", "word", "cosine"]].style.format({"cosine": "{:.3f}"}),
        hide_index=True,
        width="stretch",
    )
