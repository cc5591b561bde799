"""Tab "Needle in a haystack": a number planted at a depth of a text of a length; does each policy find it?"""

from __future__ import annotations

import streamlit as st

from app.lessons.kv_cache import figures
from app.page import LessonPage
from app.resources import shared_corpus_text
from models.kv_cache.needle import ANSWER, NEEDLE, QUESTION, NeedleConfig, NeedleSearch, filler_ids

TITLE = "Needle in a haystack"
LENGTHS = [128, 256, 512, 1024, 2048]
DEPTHS = [0, 10, 25, 50, 75, 90, 100]


def make_search(shared, config: NeedleConfig) -> NeedleSearch:
    filler = filler_ids(shared.tokenizer, shared_corpus_text("wiki"))
    return NeedleSearch(shared.model, shared.tokenizer, filler, config)


def render(page: LessonPage) -> None:
    shared = page.data
    cols = st.columns(3)
    with cols[0]:
        page.widget(
            st.multiselect,
            "needle_lengths",
            "Context lengths (tokens)",
            LENGTHS,
            default=[128, 256],
            help="Each length × depth × trial runs the full cache and every chosen policy.",
        )
    with cols[1]:
        page.widget(
            st.multiselect,
            "needle_depths",
            "Needle depths (% of the text before it)",
            DEPTHS,
            default=[10, 90],
        )
    with cols[2]:
        page.widget(
            st.number_input,
            "needle_trials",
            "Needles per cell",
            1,
            10,
            default=1,
            help="Each trial: another number, another stretch of the Wikipedia sample.",
        )
    config = page.config(NeedleConfig, "The needle grid")
    if config is None:
        return
    st.caption(
        f"The haystack is the Wikipedia sample (whatever the text setting above); the needle "
        f"“{NEEDLE.strip().format(number=7391)}” starts the sentence nearest the depth, and the text "
        f"ends with “{(QUESTION + ANSWER.format(number=7391)).strip()}”. **Found** = at every token of the answer the "
        "model's most likely next token is the right one: greedy decoding of the number after the question "
        f"(teacher-forced, the same thing in one pass). Budget {config.budget}, {config.chunk} tokens per "
        f"step, as set above; {config.runs} runs."
    )
    search = page.compute("needle", "Preparing the needle grid", make_search, shared, config)
    if search is None:
        return
    page.train(
        run="needle",
        factory=lambda: make_search(shared, config),
        total_steps=search.total_steps,
        settings={"config": repr(config)},
        render=lambda run: _draw(page, run.trainer),
        device=page.device,
        label="needle",
    )


def _draw(page: LessonPage, search: NeedleSearch) -> None:
    if not search.done:
        st.caption(f"Running: {search.current()}")
    frame = figures.needle_frame(search.rows)
    if frame.empty:
        return
    page.chart(figures.needle_grid(frame), frame, "needle")
    st.caption(
        "Each cell: the share of needles found (green) or lost (red); hover for the answer's log-probability "
        "and the share of layer × KV-head caches that still held the needle's digits when the question was "
        "read. A policy can only find the needle while its tokens are in the cache: a window loses it as soon "
        "as it falls behind the budget; H2O and SnapKV keep what was attended to, and a number nobody has "
        "asked about yet draws little attention."
    )
