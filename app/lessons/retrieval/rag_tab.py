"""Tab "RAG on SmolLM2": one question with no passage, the retrieved top k, the gold passage alone, a distractor
alone and the distractor before the gold passage: the answer's log-probability and the greedy answer in each case;
then exact match against k over all the lesson's questions (a live run)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from app.lessons.retrieval import data, figures, search_tab
from app.page import LessonPage
from models.retrieval import QUESTIONS

TITLE = "RAG on SmolLM2"
SWEEP_KS = (0, 1, 3)
KINDS = {"bm25": "BM25", "dense": "dense (MiniLM)"}


def condition_rows(conditions, pool) -> list[dict]:
    return [
        {
            "context": c.name,
            "log p(answer)": round(c.logprob, 3),
            "greedy answer": c.answer,
            "correct": c.correct,
            "prompt tokens": c.prompt_tokens,
            "passages": ", ".join(pool.passages[i].title for i in c.passages) or "—",
        }
        for c in conditions
    ]


def render(page: LessonPage) -> None:
    st.markdown(
        "Retrieval at the **input**: the passages go into SmolLM2's prompt, the weights stay as they are. For one "
        "question, the same answer is scored (log p of the gold answer, teacher-forced) and generated (greedy) "
        "with no passage, with the retriever's top k, with the gold passage alone, with a **distractor** (the "
        "retriever's best passage from another article) alone, and with the distractor before the gold passage. "
        "Nothing in the answer says which passage it came from: no attribution."
    )
    with page.settings_area():
        search_tab.pool_settings(page)
        a, b, c = st.columns([3, 1, 1])
        page.widget(
            a.selectbox,
            "question",
            "Question",
            list(range(len(QUESTIONS))),
            format_func=search_tab.question_label,
            default=0,
        )
        page.widget(b.selectbox, "retriever", "Retriever", list(KINDS), format_func=KINDS.get, default="bm25")
        page.widget(c.slider, "k", "k", 1, 5, default=3)
    pool = search_tab.shared_pool(page)
    if pool is None:
        return
    q = int(page.value("question", 0))
    kind, k = page.value("retriever", "bm25"), int(page.value("k", 3))
    words, per_article = int(page.value("words", 64)), int(page.value("per_article", 2))
    conditions = page.compute(
        "conditions",
        "Asking SmolLM2 under each context",
        page.shared,
        data.rag_table,
        words,
        per_article,
        q,
        kind,
        k,
        page.device,
        read_only=True,
        _pool=pool,
    )
    if conditions is None:
        return
    question = QUESTIONS[q]
    by_name = {c.name: c for c in conditions}
    st.markdown(f"**{question.question}** Gold answer: **{question.answer}** ({question.title})")
    cols = st.columns(3)
    cols[0].metric("log p(answer), no passage", f"{by_name['no passage'].logprob:.2f}")
    if "gold alone" in by_name:
        gold = by_name["gold alone"].logprob
        cols[1].metric("gold passage alone", f"{gold:.2f}", delta=f"{gold - by_name['no passage'].logprob:+.2f} nats")
    if "distractor + gold" in by_name and "gold alone" in by_name:
        both = by_name["distractor + gold"].logprob
        cols[2].metric(
            "distractor before the gold passage", f"{both:.2f}", delta=f"{both - gold:+.2f} nats against gold alone"
        )
    rows = condition_rows(conditions, pool)
    page.chart(*figures.condition_bars(rows, question.answer), name="conditions")
    page.table(pd.DataFrame(rows), hide_index=True, width="stretch")

    st.markdown(
        f"**Exact match against k**: every one of the {len(QUESTIONS)} questions answered with its top k passages "
        f"(k = {', '.join(map(str, SWEEP_KS))}; 0 = no passage) by the retriever above. One greedy answer a step; "
        "press ▶ Start."
    )
    page.train(
        lambda: data.AccuracySweep(pool, kind, SWEEP_KS, page.device),
        total_steps=len(SWEEP_KS) * len(QUESTIONS),
        render=lambda run: sweep_view(page, run, kind),
        run="sweep",
        label="exact match against k",
    )


def sweep_view(page: LessonPage, run, kind: str) -> None:
    if run is None or run.trainer is None or not run.trainer.results:
        return
    page.chart(*figures.accuracy_bars(run.trainer.rows(KINDS[kind])), name="accuracy")
