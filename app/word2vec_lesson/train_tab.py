"""The Train live tab: word2vec trained in short chunks while the loss falls, the groups of words drift
together in a 2D/3D projection, and the nearest neighbours and an analogy change as you watch."""

from dataclasses import dataclass

import numpy as np
import streamlit as st

from app.errors import friendly_errors
from app.lecture import show_chart
from app.training import metric_chart, training_panel
from app.word2vec_lesson.lesson import STATE, URL, Lesson, P, vectors_of
from app.word2vec_lesson.trainer import ARCHITECTURES, TICKS_PER_EPOCH, build_trainer
from app.word2vec_lesson.vector_space import (
    PROJECTIONS,
    analogy_frame,
    neighbours_frame,
    parse_groups,
    parse_words,
    project,
    projection_figure,
    projection_points,
)

GROUPS = "king queen prince princess; man woman boy girl; paris france berlin germany"
WIKI_GROUPS = GROUPS + "; january february july november"


@dataclass
class LiveView:
    """The live view's widgets, read by the training fragment."""

    groups_text: str  # words to highlight, groups separated by ;
    projection: str  # pca, tsne or umap
    three_d: bool
    top_n: int  # frequent words drawn besides the highlighted ones
    query: str  # nearest neighbours of this word
    word_a: str  # the analogy a : b :: c : ?
    word_b: str
    word_c: str
    seed: int  # the projection's random state


def draw_projection(run, kv, view: LiveView) -> None:
    with friendly_errors("Projecting the vectors"):
        groups = parse_groups(view.groups_text)
        points, unknown = projection_points(kv, groups, int(view.top_n))
        dims = 3 if view.three_d else 2
        method = view.projection
        if method != "pca" and run.running:
            method = "pca"
            st.caption(
                f"{PROJECTIONS[view.projection]} is slow: it is computed when training is paused "
                "or finished. PCA meanwhile."
            )
        vectors = kv.vectors[[kv.index(w) for w in points["word"]]]
        if method == "pca":
            coords, axes = project(vectors, "pca", dims, int(view.seed))
        else:
            key = (run.run_id, run.steps_done, method, dims, tuple(points["word"]))
            cached = st.session_state.get(f"{STATE}projection")
            if cached is None or cached[0] != key:
                spinner = f"Computing {PROJECTIONS[method]} of {len(points)} words…"
                if method == "umap":
                    spinner += " (the first UMAP compiles its code: up to ~20 s)"
                with st.spinner(spinner):
                    cached = (key, project(vectors, method, dims, int(view.seed)))
                st.session_state[f"{STATE}projection"] = cached
            coords, axes = cached[1]
        for i, column in enumerate("xyz"[:dims]):
            points[column] = coords[:, i]
        epoch = run.trainer.model.progress * run.trainer.model.config.epochs
        title = f"{PROJECTIONS[method]} of {len(points)} word vectors, epoch {epoch:.2f}"
        show_chart(projection_figure(points, axes, title), points, "w2v-projection", P)
        if unknown:
            st.warning(f"Not in the vocabulary, so not drawn: {', '.join(unknown)}.")


def draw_neighbours(run, kv, view: LiveView) -> None:
    with friendly_errors("Nearest neighbours"):
        words = parse_words(view.query)
        if not words:
            raise ValueError("Type a word to see its nearest neighbours.")
        st.session_state[f"{STATE}neighbours"] = (
            words[0],
            run.steps_done,
            neighbours_frame(kv, words[0]),
        )
    stored = st.session_state.get(f"{STATE}neighbours")
    if stored is not None:
        word, step, table = stored
        st.markdown(f"**Nearest neighbours of '{word}'** (cosine similarity, step {step})")
        st.dataframe(table.style.format({"cosine": "{:.3f}"}), hide_index=True, width="stretch")


def draw_analogy(run, kv, view: LiveView) -> None:
    with friendly_errors("The analogy"):
        a, b, c = (parse_words(x)[:1] for x in (view.word_a, view.word_b, view.word_c))
        if not (a and b and c):
            raise ValueError("Type the three words of the analogy a : b :: c : ?")
        table = analogy_frame(kv, a[0], b[0], c[0])
        st.session_state[f"{STATE}analogy"] = ((a[0], b[0], c[0]), run.steps_done, table)
    stored = st.session_state.get(f"{STATE}analogy")
    if stored is not None:
        (a, b, c), step, table = stored
        st.markdown(
            f"**{a} : {b} :: {c} : ?** — the words closest to {b} − {a} + {c} (step {step}), "
            "the three query words excluded"
        )
        st.dataframe(table.style.format({"cosine": "{:.3f}"}), hide_index=True, width="stretch")


def render_training(run, view: LiveView) -> None:
    """The kit's render callback: metrics, loss curve, projection, neighbours and the analogy."""
    model, kv = run.trainer.model, vectors_of(run)
    last = run.history[-1] if run.history else {}
    m = st.columns(4)
    m[0].metric("Epoch", f"{model.progress * model.config.epochs:.2f} / {model.config.epochs}")
    m[1].metric("Learning rate", f"{model.lr:.4f}", help="Decays linearly with the words read")
    m[2].metric("Words / s", f"{last.get('words_per_s', 0):,.0f}", help=f"on {run.device}")
    loss = last.get("loss", float("nan"))
    m[3].metric(
        "Loss (last chunk)",
        "–" if np.isnan(loss) else f"{loss:.3f}",
        help="Mean over examples of −log σ(u·v) − Σ log σ(−u·n), K + 1 terms each",
    )
    left, right = st.columns([2, 3])
    with left:
        figure = metric_chart(run, "loss", P, "Negative-sampling loss per example", x="epochs")
        show_chart(figure, run.history_frame(), "w2v-loss", P)
        st.caption(
            "The loss falls as the true words score higher and the noise lower. It starts at "
            "(K + 1)·log 2 (all outputs 0); with more negatives it sits higher, so compare runs "
            "with the same K. 📌 marks pinned runs."
        )
    with right:
        draw_projection(run, kv, view)
    n_col, a_col = st.columns(2)
    with n_col:
        draw_neighbours(run, kv, view)
    with a_col:
        draw_analogy(run, kv, view)


def render(lesson: Lesson) -> None:
    st.markdown(
        "Press **▶ Start** and watch the space organise itself: the loss falls, words of a group "
        "drift together in the projection, and the neighbours and the analogy change as you "
        "watch. **Compare**: 📌 pin a run, change one setting (skip-gram → CBOW, 5 → 15 "
        "negatives), train again with the same seed, and the loss curves overlay."
    )
    v1, v2, v3, v4 = st.columns([5, 2, 1, 2])
    groups_text = v1.text_input(
        "Words to highlight (groups separated by ;)", WIKI_GROUPS, key=f"{P}groups", **URL
    )
    projection = v2.selectbox(
        "Projection",
        list(PROJECTIONS),
        format_func=PROJECTIONS.get,
        key=f"{P}proj",
        help="PCA is redrawn every chunk. t-SNE and UMAP (slow, non-linear) are computed when "
        "training is paused or finished.",
        **URL,
    )
    three_d = v3.toggle("3D", key=f"{P}3d", **URL)
    top_n = v4.slider("Frequent words drawn", 0, 1000, 300, 50, key=f"{P}topn", **URL)
    q1, q2, q3, q4 = st.columns([2, 1, 1, 1])
    query = q1.text_input("Nearest neighbours of", "january", key=f"{P}query", **URL)
    word_a = q2.text_input("Analogy a", "he", key=f"{P}a", **URL)
    word_b = q3.text_input("is to b", "his", key=f"{P}b", **URL)
    word_c = q4.text_input("as c is to ?", "she", key=f"{P}c", **URL)
    view = LiveView(
        groups_text, projection, three_d, top_n, query, word_a, word_b, word_c, lesson.seed
    )
    arch = ARCHITECTURES[lesson.arch]
    st.caption(
        f"{arch}, d = {lesson.dim}, window {lesson.window}, K = {lesson.negatives}, "
        f"α = {lesson.exponent:g}, t = {lesson.subsample:g}, min_count {lesson.min_count}, "
        f"lr {lesson.lr:g}, {lesson.epochs} epoch(s) on {lesson.corpus_label}. "
        "One step = 1% of an epoch."
    )
    training_panel(
        P,
        lambda: build_trainer(lesson.sentences, lesson.settings, lesson.device),
        int(lesson.epochs) * TICKS_PER_EPOCH,
        lesson.settings,
        lambda run: render_training(run, view),
        device=lesson.device,
        label=f"{arch}, d={lesson.dim}, K={lesson.negatives}, {lesson.corpus_label}",
    )
