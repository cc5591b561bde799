"""Tab "Retrieval": BM25 against dense retrieval (MiniLM) on questions over the Wikipedia sample: each one's top k
with scores, where the two agree and disagree, and recall@k over the lesson's questions."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from app.lessons.retrieval import data, figures
from app.page import LessonPage
from models.retrieval import QUESTIONS, agreement

TITLE = "Retrieval"
OWN = len(QUESTIONS)  # the question picker's last option: the student's own question
MAX_QUESTION_CHARS = 500


def question_label(i: int) -> str:
    return "Your own question…" if i == OWN else QUESTIONS[i].question


def pool_settings(page: LessonPage) -> None:
    """The passage pool: the first passages of every article of the Wikipedia sample."""
    a, b = st.columns(2)
    page.widget(a.select_slider, "words", "Words per passage", [32, 64, 100, 128], default=64)
    page.widget(
        b.slider,
        "per_article",
        "Passages per article",
        1,
        6,
        default=2,
        help="The pool is the first passages of each of the sample's ~100 articles; MiniLM encodes each once per "
        "server (a few seconds per hundred passages on a CPU).",
    )


def shared_pool(page: LessonPage):
    words, per_article = int(page.value("words", 64)), int(page.value("per_article", 2))
    return page.compute(
        "pool", "Indexing the passages", page.shared, data.pool, words, per_article, page.device, read_only=True
    )


def hits_table(pool, hits, gold) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "rank": range(1, len(hits) + 1),
            "score": [round(s, 3) for _, s in hits],
            "article": [pool.passages[i].title + (" ★ gold" if i == gold else "") for i, _ in hits],
            "passage": [pool.passages[i].text[:160] + "…" for i, _ in hits],
        }
    )


def search_both(pool, question: str, k: int) -> dict:
    """Both retrievers' top k and every passage's two scores. Dense always ranks; BM25 may find no shared word
    (its message is kept in "bm25_note" and its scores are all zero)."""
    dense = pool.dense.search(question, k)  # refuses an empty question
    found = {"question": question, "k": k, "dense": dense, "dense_scores": pool.dense.scores(question)}
    try:
        found |= {"bm25": pool.bm25.search(question, k), "bm25_scores": pool.bm25.scores(question), "bm25_note": ""}
    except ValueError as exc:
        found |= {"bm25": [], "bm25_scores": np.zeros(len(pool.passages)), "bm25_note": str(exc)}
    return found


def show_hits(page: LessonPage, pool, found: dict, gold: int | None) -> None:
    k, bm25, dense = found["k"], found["bm25"], found["dense"]
    left, right = st.columns(2)
    with left:
        st.markdown("**BM25** (bm25s, k1 = 1.5, b = 0.75)")
        if found["bm25_note"]:
            st.warning(found["bm25_note"] + " Dense retrieval still ranks every passage.")
        else:
            page.table(hits_table(pool, bm25, gold), hide_index=True)
    with right:
        st.markdown("**Dense** (MiniLM cosine, faiss inner product)")
        page.table(hits_table(pool, dense, gold), hide_index=True)
    both = agreement(bm25, dense)
    c1, c2, c3 = st.columns(3)
    c1.metric(f"In both top {k}", f"{len(both['both'])} of {k}")
    if gold is not None:
        rank = {
            name: next((r for r, (i, _) in enumerate(hits, 1) if i == gold), None)
            for name, hits in (("BM25", bm25), ("dense", dense))
        }
        c2.metric("Gold passage: BM25 rank", rank["BM25"] or f"> {k}")
        c3.metric("Gold passage: dense rank", rank["dense"] or f"> {k}")
    fig, frame = figures.score_scatter(
        found["bm25_scores"],
        found["dense_scores"],
        [p.title for p in pool.passages],
        both["both"] + both["only_first"],
        both["both"] + both["only_second"],
        gold,
        found["question"],
    )
    page.chart(fig, frame, "scores")


def render(page: LessonPage) -> None:
    st.markdown(
        "**BM25** scores a passage by the question's words it contains, rare words most, saturating with repeats and "
        "discounting long passages. **Dense retrieval** embeds question and passage with MiniLM and ranks by cosine: "
        "meaning, not spelling, so it finds paraphrases and also passages that are only on topic. The pool: the "
        "first passages of every article of the Wikipedia sample (title prefixed, as DPR does)."
    )
    with page.settings_area():
        pool_settings(page)
        a, b = st.columns([3, 1])
        page.widget(a.selectbox, "question", "Question", list(range(OWN + 1)), format_func=question_label, default=0)
        page.widget(b.slider, "k", "k", 1, 10, default=3)
        choice = int(page.value("question", 0))
        if choice == OWN:
            page.widget(
                st.text_input,
                "own",
                "Your question",
                default="Which city is the capital of Algeria?",
                max_chars=MAX_QUESTION_CHARS,
            )
    pool = shared_pool(page)
    if pool is None:
        return
    k = int(page.value("k", 3))
    if k > len(pool.passages):
        st.info(f"The pool holds {len(pool.passages)} passages: k is cut to that.")
        k = len(pool.passages)
    question = QUESTIONS[choice].question if choice != OWN else page.value("own", "")
    found = page.compute("search", "Searching", search_both, pool, question, k)
    if found is not None:
        show_hits(page, pool, found, gold=pool.gold[choice] if choice != OWN else None)
    words, per_article = int(page.value("words", 64)), int(page.value("per_article", 2))
    rows = page.shared(data.recall_at_k, (words, per_article, page.device), _pool=pool)
    page.chart(*figures.recall_curves(rows), name="recall")
    best = {
        name: next(r["recall"] for r in rows if r["retriever"] == name and r["k"] == 1)
        for name in ("BM25", "dense (MiniLM)")
    }
    r1, r2 = st.columns(2)
    r1.metric(f"Recall@1, BM25 ({len(QUESTIONS)} questions)", f"{best['BM25']:.0%}")
    r2.metric(f"Recall@1, dense ({len(QUESTIONS)} questions)", f"{best['dense (MiniLM)']:.0%}")
    st.caption(
        "The lesson's questions reuse their passages' words (names, titles), which is where BM25 is strong; a "
        "paraphrased question is where dense retrieval catches up. Try your own."
    )
