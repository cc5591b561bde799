"""Tab "Benchmarks": WordSim-353, SimLex-999 and Google's analogies for every space, with their coverage."""

import pandas as pd
import streamlit as st

from app.lessons.embedding_spaces import figures, spaces
from app.page import LessonPage

TITLE = "Benchmarks"


def all_similarity_rows(device: str) -> list[dict]:
    rows = []
    for name in spaces.space_options():
        if name == "word2vec":
            rows += spaces.similarity_rows(spaces.space_label(name), spaces.word2vec_vectors())
        else:
            rows += spaces.similarity_scores(name, device)
    return rows


def all_analogy_rows(device: str) -> list[dict]:
    rows = []
    for name in spaces.space_options():
        if name == "word2vec":
            rows += spaces.analogy_rows(spaces.space_label(name), spaces.word2vec_vectors())
        else:
            rows += spaces.analogy_scores(name, device)
    return rows


def render(page: LessonPage) -> None:
    st.markdown(
        "Word similarity: Spearman ρ between people's similarity scores and the cosine of the two words' "
        "vectors (WordSim-353 mixes relatedness in; SimLex-999 asks for similarity only). Analogies: 3CosAdd "
        "over the 30,000 most frequent words of each space. A space is scored only on the pairs and questions "
        "whose words it holds: read the **coverage** before comparing (a token space lacks words that its "
        "tokenizer splits, such as many city names)."
    )
    if spaces.word2vec_run() is None:
        st.caption("Train a word2vec run on the **Word embeddings** page to add it to this comparison.")
    rows = page.compute("similarity", "Scoring word similarity", all_similarity_rows, page.device)
    if st.button(
        "Score the analogies too (about 20 s per space on a CPU, once per server)",
        key=page.state_key("score-analogies"),
    ):
        page.compute("analogies", "Scoring the analogies", all_analogy_rows, page.device)
    analogies = page.result("analogies")
    if rows is None:
        return
    frame = pd.DataFrame(rows + (analogies or []))
    page.chart(figures.scores_figure(frame), frame, "scores")
    table = frame.pivot_table(index="space", columns="benchmark", values="score", sort=False)
    coverage = frame.pivot_table(index="space", columns="benchmark", values="covered", aggfunc="first", sort=False)
    left, right = st.columns(2)
    left.caption("Scores")
    with left:
        page.table(table.style.format("{:.3f}"), width="stretch")
    right.caption("Covered (pairs or questions)")
    with right:
        page.table(coverage, width="stretch")
