"""Tab "Generate": sampling word by word from the chosen model, with a temperature and a seed."""

import streamlit as st

from app.lessons.ngrams import tables
from app.page import LessonPage
from models.text import tokenize_words

TITLE = "Generate"


def generate(lm, start: str, n_words: int, seed: int, temperature: float, about: str):
    start_words = tokenize_words(start)
    return start_words, lm.generate(n_words, seed, temperature, context=start_words), about


def render(page: LessonPage) -> None:
    main, used = page.data.main, page.data.used
    st.markdown(
        "Sampling word by word from the chosen model. Temperature below 1 sharpens the distribution "
        "(safer, repetitive), above 1 flattens it (more surprising); the seed makes it repeatable. "
        "⏎ ends a sentence."
    )
    g1, g2, g3, g4 = st.columns([3, 2, 2, 1])
    page.widget(g1.text_input, "start", "Start with (empty: a new sentence)", default="")
    page.widget(g2.slider, "gen_words", "Words", 5, 150, default=40)
    page.widget(g3.slider, "temperature", "Temperature", 0.1, 2.0, step=0.05, default=1.0)
    page.widget(g4.number_input, "gen_seed", "Seed", 0, 1_000_000, default=0)
    temperature, seed = page.value("temperature"), int(page.value("gen_seed"))
    about = f"{used}, temperature {temperature:g}, seed {seed}"
    generated = page.compute(
        "generated",
        "Generating",
        generate,
        main,
        page.value("start"),
        page.value("gen_words"),
        seed,
        temperature,
        about,
    )
    if generated:
        start_words, words, about = generated
        prefix = f"**{' '.join(start_words)}** " if start_words else ""
        st.markdown(prefix + tables.generated_text(words))
        st.caption(about + ("" if main.is_distribution else " (stupid backoff's scores normalised)"))
