"""The Train live tab: word2vec trained in short chunks while the loss falls, the groups of words drift
together in a 2D/3D projection, and the nearest neighbours and an analogy change as you watch."""

import numpy as np
import streamlit as st

from app.lessons.word_embeddings.trainer import (
    ARCHITECTURES,
    TICKS_PER_EPOCH,
    build_trainer,
    corpus_defaults,
)
from app.lessons.word_embeddings.vector_space import (
    PROJECTIONS,
    analogy_frame,
    neighbours_frame,
    parse_groups,
    parse_words,
    project,
    projection_figure,
    projection_points,
)
from app.page import LessonPage, metric_chart

TITLE = "Train live"


def projected(page: LessonPage, run, kv) -> tuple:
    """(points, axes, method, unknown words): PCA while training runs, t-SNE/UMAP once it pauses."""
    groups = parse_groups(page.value("groups", ""))
    points, unknown = projection_points(kv, groups, int(page.value("top_n", 300)))
    dims = 3 if page.value("three_d") else 2
    method = chosen = page.value("projection", "pca")
    if method != "pca" and run.running:
        method = "pca"
        st.caption(f"{PROJECTIONS[chosen]} is slow: it is computed when training is paused or finished. PCA meanwhile.")
    vectors = kv.vectors[[kv.index(w) for w in points["word"]]]
    seed = page.data.config.seed
    if method == "pca":
        coords, axes = project(vectors, "pca", dims, seed)
    else:
        key = (run.run_id, run.steps_done, method, dims, tuple(points["word"]))
        cached = page.result("projection")
        if cached is None or cached[0] != key:
            spinner = f"Computing the {PROJECTIONS[method]} projection of {len(points)} words…"
            if method == "umap":
                spinner += " (the first UMAP of a session compiles its code: up to ~20 s)"
            with st.spinner(spinner, show_time=True):
                cached = (key, project(vectors, method, dims, seed))
            page.keep("projection", cached)
        coords, axes = cached[1]
    for i, column in enumerate("xyz"[:dims]):
        points[column] = coords[:, i]
    return points, axes, method, unknown


def draw_projection(page: LessonPage, run, kv) -> None:
    shown = page.compute("projected", "Projecting the vectors", projected, page, run, kv)
    if shown is None:
        return
    points, axes, method, unknown = shown
    epoch = run.trainer.model.progress * run.trainer.model.config.epochs
    title = f"{PROJECTIONS[method]} of {len(points)} word vectors, epoch {epoch:.2f}"
    page.chart(projection_figure(points, axes, title), points, "w2v-projection")
    if unknown:
        st.warning(f"Not in the vocabulary, so not drawn: {', '.join(unknown)}.")


def neighbours(page: LessonPage, run, kv) -> tuple:
    words = parse_words(page.value("query", ""))
    if not words:
        raise ValueError("Type a word to see its nearest neighbours.")
    return words[0], run.steps_done, neighbours_frame(kv, words[0]), run.run_id


def analogy(page: LessonPage, run, kv) -> tuple:
    a, b, c = (parse_words(page.value(name, ""))[:1] for name in ("a", "b", "c"))
    if not (a and b and c):
        raise ValueError("Type the three words of the analogy a : b :: c : ?")
    table = analogy_frame(kv, a[0], b[0], c[0])
    return (a[0], b[0], c[0]), run.steps_done, table, run.run_id


def stale_note(page: LessonPage, name: str, run) -> str:
    """How old the table on screen is: nothing, or why it no longer matches the inputs."""
    return " — ⚠ stale: for the words before your edit" if page.stale(name) else ""


def draw_neighbours(page: LessonPage, run, kv) -> None:
    stored = page.compute("neighbours", "Nearest neighbours", neighbours, page, run, kv)
    if stored is not None and stored[3] == run.run_id:  # a table of another run is not shown
        word, step, table, _ = stored
        st.markdown(
            f"**Nearest neighbours of '{word}'** (cosine similarity, step {step})" + stale_note(page, "neighbours", run)
        )
        page.table(table.style.format({"cosine": "{:.3f}"}), hide_index=True, width="stretch")


def draw_analogy(page: LessonPage, run, kv) -> None:
    stored = page.compute("analogy", "The analogy", analogy, page, run, kv)
    if stored is not None and stored[3] == run.run_id:
        (a, b, c), step, table, _ = stored
        st.markdown(
            f"**{a} : {b} :: {c} : ?** — the words closest to {b} − {a} + {c} (step {step}), "
            "the three query words excluded" + stale_note(page, "analogy", run)
        )
        page.table(table.style.format({"cosine": "{:.3f}"}), hide_index=True, width="stretch")


def render_training(page: LessonPage, run) -> None:
    """The kit's render callback: metrics, loss curve, projection, neighbours and the analogy."""
    model, kv = run.trainer.model, run.trainer.keyed_vectors()
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
        figure = metric_chart(run, "loss", page.slug, "Negative-sampling loss per example", x="epochs")
        page.chart(figure, run.history_frame(), "w2v-loss")
        st.caption(
            "The loss falls as the true words score higher and the noise lower. It starts at "
            "(K + 1)·log 2 (all outputs 0); with more negatives it sits higher, so compare runs "
            "with the same K. 📌 marks pinned runs."
        )
    with right:
        draw_projection(page, run, kv)
    n_col, a_col = st.columns(2)
    with n_col:
        draw_neighbours(page, run, kv)
    with a_col:
        draw_analogy(page, run, kv)


def render(page: LessonPage) -> None:
    lesson = page.data
    config = lesson.config
    st.markdown(
        "Press **▶ Start** and watch the space organise itself: the loss falls, words of a group "
        "drift together in the projection, and the neighbours and the analogy change as you "
        "watch. **Compare**: 📌 pin a run, change one setting (5 → 15 negatives), train again "
        "with the same seed, and the loss curves overlay; the **Evaluate** tab scores each run."
    )
    v1, v2, v3, v4 = st.columns([5, 2, 1, 2])
    page.widget(
        v1.text_input, "groups", "Words to highlight (groups separated by ;)", default=corpus_defaults("wiki")["groups"]
    )
    page.widget(
        v2.selectbox,
        "projection",
        "Projection",
        list(PROJECTIONS),
        default="pca",
        format_func=PROJECTIONS.get,
        help="PCA is redrawn every chunk. t-SNE and UMAP (slow, non-linear) are computed when "
        "training is paused or finished.",
    )
    page.widget(v3.toggle, "three_d", "3D", default=False)
    page.widget(v4.slider, "top_n", "Frequent words drawn", 0, 1000, step=50, default=300)
    q1, q2, q3, q4 = st.columns([2, 1, 1, 1])
    defaults = corpus_defaults("wiki")
    page.widget(q1.text_input, "query", "Nearest neighbours of", default=defaults["query"])
    page.widget(q2.text_input, "a", "Analogy a", default=defaults["a"])
    page.widget(q3.text_input, "b", "is to b", default=defaults["b"])
    page.widget(q4.text_input, "c", "as c is to ?", default=defaults["c"])
    arch = ARCHITECTURES[config.arch]
    st.caption(
        f"{arch}, d = {config.dim}, window {config.window}, K = {config.negatives}, "
        f"α = {config.ns_exponent:g}, t = {config.subsample:g}, min_count {config.min_count}, "
        f"lr {config.lr:g}, {config.epochs} epoch(s) on {lesson.corpus_label}. "
        "One step = 1% of an epoch."
    )
    page.train(
        lambda: build_trainer(lesson.sentences, lesson.settings, lesson.device),
        config.epochs * TICKS_PER_EPOCH,
        lambda run: render_training(page, run),
        settings=lesson.settings,
        label=f"{arch}, d={config.dim}, K={config.negatives}, {lesson.corpus_label}",
    )
