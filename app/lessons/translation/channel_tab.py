"""Tab "Noisy channel": decode a foreign sentence by argmax_e p(e) p(f | e), with the n-gram lesson's LM and IBM
Model 1, and show every candidate's two scores."""

import streamlit as st

from app.lessons.translation import data, figures
from app.page import LessonPage
from models.text import tokenize_words
from models.translation.noisy_channel import ChannelConfig, noisy_channel_decode

TITLE = "Noisy channel"
EXAMPLES = {"toy": "kapo ga miru o mira", "german": "das haus ist klein", "das_haus": "das buch", "user": ""}


def decode(text: str, ibm, lm, config: ChannelConfig) -> dict:
    if len(text) > 300:
        raise ValueError("Type a short sentence (at most 300 characters).")
    return noisy_channel_decode(tokenize_words(text), ibm, lm, config)


def render(page: LessonPage) -> None:
    config, result = page.data
    st.markdown(
        "The noisy channel pretends the foreign sentence f was English e, garbled on the way. Decoding asks which e "
        "most likely produced it: **argmax_e p(e) · p(f | e)**. The n-gram LM p(e) (Kneser-Ney, from the n-gram "
        "lesson, trained on the corpus's English side) knows word order and nothing of f; IBM Model 1's p(f | e) "
        "knows which words translate which and nothing of order. A beam search over English prefixes, built from "
        "each foreign word's best translations, finds the candidates."
    )
    with page.settings_area():
        a, b, c = st.columns([3, 1, 1])
        page.widget(a.text_input, "foreign", "Foreign sentence", default="", placeholder=EXAMPLES[config.corpus])
        page.widget(b.slider, "lm_order", "LM order n", 1, 4, default=2)
        page.widget(c.slider, "translations_per_word", "Translations per word", 1, 6, default=3)
    channel = page.config(ChannelConfig, "The decoder settings")
    text = page.value("foreign") or EXAMPLES[config.corpus] or " ".join(result.pairs[0][0])
    if channel is None:
        return
    if config.corpus == "user":
        lm = page.compute("lm", "Training the English LM", data.lm_for, result.pairs, channel.lm_order)
    else:
        lm = page.shared(data.shared_lm, config.corpus, config.toy_pairs, config.seed, channel.lm_order, read_only=True)
    decoded = page.compute("decoded", "Decoding", decode, text, result.ibm, lm, channel)
    if decoded is None or lm is None:
        return
    best, baseline = decoded["candidates"][0], decoded["word_for_word"]
    c1, c2, c3 = st.columns(3)
    c1.metric("Best candidate", best["english"])
    c2.metric(
        "Its log p(e) above word-for-word",
        f"{best['log p(e)'] - baseline['log p(e)']:.1f} nats",
        help=f"Word for word, in the foreign order: “{baseline['english']}”.",
    )
    c3.metric("Prefixes scored", f"{decoded['searched']:,}")
    page.chart(*figures.candidate_bars(decoded["candidates"], baseline), name="candidates")
    st.caption(
        f"Decoded “{text}” with t(f | e) after {config.iterations} EM iterations. The word-for-word line keeps the "
        "foreign order: its p(f | e) is as good (Model 1 ignores order), its p(e) is not."
    )
