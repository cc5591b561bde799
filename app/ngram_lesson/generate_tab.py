"""Tab "Generate": sampling word by word from the chosen model, with a temperature and a seed."""

import streamlit as st

from app.errors import friendly_errors
from app.ngram_lesson import tables
from app.ngram_lesson.data import Lesson
from app.ngram_lesson.keys import STATE, URL, P
from models.text import tokenize_words


def render(lesson: Lesson) -> None:
    main, used = lesson.main, lesson.used
    st.markdown(
        "Sampling word by word from the chosen model. Temperature below 1 sharpens the distribution "
        "(safer, repetitive), above 1 flattens it (more surprising); the seed makes it repeatable. "
        "⏎ ends a sentence."
    )
    g1, g2, g3, g4 = st.columns([3, 2, 2, 1])
    start = g1.text_input("Start with (empty: a new sentence)", "", key=f"{P}start", **URL)
    n_words = g2.slider("Words", 5, 150, 40, key=f"{P}gen_words", **URL)
    temperature = g3.slider("Temperature", 0.1, 2.0, 1.0, 0.05, key=f"{P}temp", **URL)
    gen_seed = g4.number_input("Seed", 0, 1_000_000, 0, key=f"{P}gen_seed", **URL)
    with friendly_errors("Generating"):
        start_words = tokenize_words(start)
        generated = main.generate(n_words, int(gen_seed), temperature, context=start_words)
        about = f"{used}, temperature {temperature:g}, seed {int(gen_seed)}"
        st.session_state[f"{STATE}generated"] = (start_words, generated, about)
    if st.session_state.get(f"{STATE}generated"):
        start_words, generated, about = st.session_state[f"{STATE}generated"]
        prefix = f"**{' '.join(start_words)}** " if start_words else ""
        st.markdown(prefix + tables.generated_text(generated))
        st.caption(
            about + ("" if main.is_distribution else " (stupid backoff's scores normalised)")
        )
