"""Tab "Lost in the middle (SmolLM2)": the KV lesson's needle at each depth of one context, full cache; on ▶ Start."""

from __future__ import annotations

import streamlit as st

from app.lessons.long_context import figures
from app.page import LessonPage
from app.resources import load_shared_model, shared_corpus_text
from models.kv_cache.needle import ANSWER, NEEDLE, QUESTION, filler_ids
from models.long_context.lost_middle import LENGTHS, MiddleConfig, by_depth, middle_search

TITLE = "Lost in the middle (SmolLM2)"
DEPTHS = [0, 10, 25, 50, 75, 90, 100]


def make_search(model, tokenizer, config: MiddleConfig):
    return middle_search(model, tokenizer, filler_ids(tokenizer, shared_corpus_text("wiki")), config)


def render(page: LessonPage) -> None:
    with page.settings_area():
        cols = st.columns(3)
        page.widget(cols[0].selectbox, "length", "Context (tokens)", list(LENGTHS), default=512,
                    help="About 1.5 s per needle at 512 tokens on 2 CPU cores; 2,048 takes several times that.")  # fmt: skip
        page.widget(cols[1].multiselect, "depths", "Needle depths (% of the text before it)", DEPTHS,
                    default=[0, 25, 50, 75, 100])  # fmt: skip
        page.widget(cols[2].number_input, "trials", "Needles per depth", 1, 5, default=2,
                    help="Each: another number, another stretch of the Wikipedia sample.")  # fmt: skip
    config = page.config(MiddleConfig, "The needle grid")
    if config is None:
        return
    loaded = page.compute("middle-model", "Loading SmolLM2", load_shared_model, "smollm2", page.device)
    if loaded is None:
        return
    model, tokenizer = loaded
    search = page.compute("middle", "Preparing the needles", make_search, model, tokenizer, config)
    if search is None:
        return
    st.caption(
        f"Liu et al. 2023 (“Lost in the middle”) found a U: language models use a fact at the start or the end of a "
        f"long context better than one in the middle. Here: the [KV-cache lesson's](/kv_cache) needle, "
        f"“{NEEDLE.strip().format(number=7391)}”, planted at each depth of {config.length:,} tokens of the "
        f"Wikipedia sample, the text ending “{(QUESTION + ANSWER.format(number=7391)).strip()}”, read by SmolLM2 "
        "with its full cache. **Found**: greedy decoding gives every digit of the number (teacher-forced argmax, "
        f"the same in one pass). {config.runs} needles, on ▶ Start."
    )
    if page.run("middle") is None:
        page.chart(*page.shared_figure(figures.middle_empty, config.depths, config.length, config.runs), "middle")
    page.train(
        lambda: make_search(model, tokenizer, config),
        total_steps=search.total_steps,
        render=lambda run: draw(page, run.trainer, config.length),
        run="middle",
        label="lost in the middle",
    )


def draw(page: LessonPage, search, length: int) -> None:
    if not search.done:
        st.caption(f"Running: {search.current()}")
    if not search.rows:
        return
    table = by_depth(search.rows)
    cols = st.columns(len(table))
    for col, (depth, row) in zip(cols, table.items()):
        col.metric(f"depth {depth} %: found", f"{row['found']:.0%}",
                   help=f"{row['needles']} needle(s); mean probability of the answer {row['answer probability']:.2f}")  # fmt: skip
    page.chart(*figures.middle_by_depth(table, length), "middle")
    st.caption(
        "A lone, unusual sentence in plain text is an easy retrieval: SmolLM2 tends to find it at every depth "
        "of these lengths, and the answer's probability (the line) is where a depth effect would show first. "
        "Liu et al.'s U came from 20 similar documents, one holding the answer, in contexts of 2k to 6k tokens."
    )
