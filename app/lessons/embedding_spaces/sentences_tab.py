"""Tab "Sentence vectors": MiniLM's mean-pooled sentence embeddings, their similarities, a semantic search."""

import numpy as np
import pandas as pd
import streamlit as st
import torch

from app.lessons.embedding_spaces import figures, spaces
from app.page import LessonPage
from models.embedding_spaces.spaces import semantic_search

TITLE = "Sentence vectors"
SENTENCES = (
    "The cat sat on the mat.\n"
    "A kitten was resting on the rug.\n"
    "The stock market fell sharply today.\n"
    "Share prices dropped steeply this afternoon.\n"
    "I love this movie, it is wonderful.\n"
    "What a fantastic film, I enjoyed it a lot."
)


def similarities(text: str, device: str):
    sentences = [line.strip() for line in (text or "").splitlines() if line.strip()]
    spaces.check_sentences(sentences)
    vectors = spaces.embed(tuple(sentences), device)  # (N, 384) unit rows
    return sentences, vectors


def nearest_table(sentences: list[str], matrix: np.ndarray) -> pd.DataFrame:
    masked = matrix - 3 * np.eye(len(matrix))  # a sentence is not its own neighbour
    best = masked.argmax(1)
    return pd.DataFrame(
        {
            "#": range(1, len(sentences) + 1),
            "sentence": sentences,
            "nearest other sentence": [f"{j + 1}. {sentences[j]}" for j in best],
            "cosine": [float(matrix[i, j]) for i, j in enumerate(best)],
        }
    )


def search(corpus: str, query: str, k: int, device: str):
    query = (query or "").strip()
    if not query:
        raise ValueError("Type a query to search the corpus.")
    if len(query) > spaces.MAX_CHARS:
        raise ValueError(f"The query has {len(query):,} characters: keep it under {spaces.MAX_CHARS:,}.")
    texts, index = spaces.search_index(corpus, device)
    vector = torch.from_numpy(spaces.embed((query,), device)[0])
    hits = semantic_search(vector, index, k)
    return pd.DataFrame(
        {
            "rank": range(1, len(hits) + 1),
            "cosine": [s for _, s in hits],
            "sentence": [texts[i] for i, _ in hits],
        }
    )


def render(page: LessonPage) -> None:
    st.markdown(
        "MiniLM (all-MiniLM-L6-v2) reads a sentence, averages its last layer's token vectors over the real "
        "tokens and scales the mean to length 1: one vector per sentence, trained so that paraphrases are "
        "close. Cosine between sentences = their dot product."
    )
    text = page.widget(st.text_area, "sentences", "Sentences (one per line)", default=SENTENCES, height=160)
    result = page.compute("sentences", "Embedding the sentences", similarities, text, page.device)
    if result is not None:
        sentences, vectors = result
        matrix = vectors @ vectors.T
        labels = [str(i + 1) for i in range(len(sentences))]  # the table below names them
        table = nearest_table(sentences, matrix)
        if len(sentences) > 1:
            st.metric(
                "Mean cosine to the nearest other sentence",
                f"{table['cosine'].mean():.2f}",
                f"all pairs: {matrix[~np.eye(len(matrix), dtype=bool)].mean():.2f}",
                delta_color="off",
                delta_arrow="off",
            )
        left, right = st.columns(2)
        with left:
            page.chart(
                figures.heatmap_figure(matrix, labels, "Cosine between sentence vectors"),
                pd.DataFrame(matrix, columns=labels),
                "sentence-matrix",
            )
        with right:
            if len(sentences) >= 2:
                coordinates, axes = figures.pca(vectors, 2)
                frame = pd.DataFrame({"sentence": sentences, "label": [str(i + 1) for i in range(len(sentences))]})
                frame["x"] = coordinates[:, 0]
                frame["y"] = coordinates[:, 1] if coordinates.shape[1] > 1 else 0.0
                page.chart(figures.sentence_map_figure(frame, axes), frame, "sentence-map")
            else:
                st.info("One sentence: add a second line to compare sentences and map them.")
        page.table(table.style.format({"cosine": "{:.3f}"}), hide_index=True, width="stretch")
    st.markdown("**Semantic search**: the corpus sentences whose vectors are closest to your query's")
    cols = st.columns([2, 3, 1])
    with cols[0]:
        corpus = page.widget(
            st.selectbox,
            "search_corpus",
            "Corpus",
            list(spaces.SEARCH_CORPORA),
            default="reviews",
            format_func=spaces.SEARCH_CORPORA.get,
        )
    with cols[1]:
        query = page.widget(st.text_input, "query", "Query", default="a funny and touching film")
    with cols[2]:
        k = page.widget(st.number_input, "top_k", "Results", 1, 20, default=5)
    if st.button(
        "Search",
        key=page.state_key("search-button"),
        help="The first search embeds the whole corpus once for this server (a few seconds for the reviews, "
        "about a minute for the news on a CPU).",
    ):
        page.compute("search", "Searching", search, corpus, query, int(k), page.device)
    hits = page.result("search")
    if hits is not None:
        page.table(hits.style.format({"cosine": "{:.3f}"}), hide_index=True, width="stretch")
