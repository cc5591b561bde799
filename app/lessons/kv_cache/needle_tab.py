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
        f"(teacher-forced, the same thing in one pass). Budget {config.budget}, as set above; {config.runs} runs. "
        "**Compression at prefill** (SnapKV, PyramidKV, as in SnapKV's paper): the prompt up to the question's "
        f"end is read at once, its last {config.window} tokens (the question) are the observation window that "
        "scores every earlier token, the cache is cut to the budget once, and the answer is decoded from it; "
        "the first digit comes from the prefill pass itself (full attention, as in the paper), the later ones "
        "read the cut cache. **Eviction during decoding** (the others, and the streaming variants): the text "
        f"streams in steps of {config.chunk} tokens and the cache is pruned whenever it overflows, long before "
        "the question arrives."
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
    page.table(figures.needle_summary(search.rows), hide_index=True, width="stretch")
    st.caption(
        "Each cell: the share of needles found (green) or lost (red); hover for the answer's log-probability. "
        "The table counts the needles found and the range, over the needles, of the share of layer × KV-head "
        "caches that held every digit of the number once the question had been read (at prefill: right after "
        "the cut). Streamed, a number nobody has asked about yet draws little attention and is evicted before "
        "the question comes; at prefill the question itself picks what stays, yet it keeps the digits in only "
        "some of the caches: SmolLM2's heads do not all look at the number."
    )
