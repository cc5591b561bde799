"""Machine translation (Lecture 17): one module per tab; `controls` picks the parallel corpus and trains IBM Model 1.

data.py builds what the tabs share (the corpus, IBM Model 1, the English LM), figures.py draws it; each *_tab.py
draws one tab (TITLE and render(page)).
"""

import streamlit as st

from app.lecture import advanced_controls
from app.lessons.translation import bleu_tab, channel_tab, data, decoding_tab, em_tab, glossary_tab, neural_tab
from app.page import LessonPage, Preset
from models.translation.config import TranslationConfig
from models.translation.corpora import CORPORA, MAX_TEXT_CHARS

INTRO = (
    "Statistical MT is the **noisy channel**: pick the English e that maximises p(e) · p(f | e), an English "
    "language model times a translation model. IBM Model 1's t(f | e) is learnt from sentence pairs alone by "
    "**EM**: nobody says which word translates which, yet the alignment emerges. Neural MT learns the same thing "
    "as **attention**, a soft alignment. Then the search (greedy against **beam search**, on the tiny model and on "
    "SmolLM2 prompted to translate), a **glossary** in an LLM's prompt, and the score (**BLEU**, chrF). Every "
    "number here is computed on this page."
)
CORPUS_TITLES = {
    "toy": "Toy pair (generated, gold alignments)",
    "german": "English–German, hand-made",
    "das_haus": "das Haus (3 textbook pairs)",
    "user": "Your own pairs (tab-separated)",
}
EXAMPLE_PAIRS = "das Haus\tthe house\ndas Buch\tthe book\nein Buch\ta book\nein Haus\ta house"

PRESETS = {  # full state: settings not named go back to their defaults; each opens the tab that shows it
    "Lecture demo: das Haus converges": Preset(
        "On the textbook's three pairs, t(das | the) climbs from 0.25 (uniform) to above 0.95 in 10 EM iterations.",
        tab=em_tab.TITLE,
        values={"corpus": "das_haus", "iterations": 10, "watch": "das the"},
    ),
    "Lecture demo: alignment error falls": Preset(
        "On the toy pair, the alignment error rate against the gold links falls below 0.2 after 10 EM iterations.",
        tab=em_tab.TITLE,
        values={"corpus": "toy", "iterations": 10},
    ),
    "Lecture demo: the LM puts words in order": Preset(
        "“nodoli ga sika o ama” decodes to “the farmers like the book”: its log p(e) beats the word-for-word "
        "order's by more than 20 nats.",
        tab=channel_tab.TITLE,
        values={"corpus": "toy", "foreign": "nodoli ga sika o ama"},
    ),
    "Lecture demo: a glossary in the prompt": Preset(
        "SmolLM2 translates 4 sentences greedily from the same few-shot prompt: without the glossary line it uses "
        "none of their 6 glossary terms, with it 4 of 6 (and chrF rises from 10 to 29), though the French stays "
        "wrong.",
        tab=glossary_tab.TITLE,
        values={"num_beams": 1},
    ),
    "Lecture demo: the brevity penalty": Preset(
        "“the cat” against “the cat sat on the mat”: every n-gram is right, yet the brevity penalty is 0.135.",
        tab=bleu_tab.TITLE,
        values={"hypotheses": "the cat", "references": "the cat sat on the mat"},
    ),
}
TABS = [em_tab, channel_tab, neural_tab, decoding_tab, glossary_tab, bleu_tab]  # each module: TITLE and render(page)


def controls(page: LessonPage):
    """The corpus and IBM Model 1 trained on it: (config, Alignment), or None (a message is shown)."""
    left, right = st.columns([3, 2])
    page.widget(
        left.selectbox, "corpus", "Parallel corpus", list(CORPORA), format_func=CORPUS_TITLES.get, default="toy"
    )
    page.widget(
        right.slider,
        "iterations",
        "EM iterations of IBM Model 1",
        1,
        50,
        default=8,
        help="From the uniform start t(f | e) = 1 / |foreign vocabulary|.",
    )
    st.caption(CORPORA[page.value("corpus", "toy")])
    text = ""
    if page.value("corpus") == "user":
        text = page.widget(
            st.text_area,
            "pairs",
            "Your pairs: foreign sentence, a tab, the English sentence; one pair a line",
            default=EXAMPLE_PAIRS,
            max_chars=MAX_TEXT_CHARS,
            height=150,
        )
    with advanced_controls("The toy corpus"):
        a, b = st.columns(2)
        page.widget(a.number_input, "toy_pairs", "Toy sentence pairs", 20, 2000, step=20, default=300)
        page.widget(b.number_input, "seed", "Toy corpus seed", 0, 1_000_000, default=0)
    config = page.config(TranslationConfig, "The corpus settings")
    if config is None:
        return None
    result = page.compute("alignment", "Reading the pairs and running EM", data.alignment, page, config, text)
    if result is None:
        return None
    return config, result
