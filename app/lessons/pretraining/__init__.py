"""Pre-training objectives (Lectures 6 and 8): one module per tab; `controls` picks the text every tab shares."""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from app.lessons.pretraining import chat_tab, instruction_tab, masking_tab, objectives_tab
from app.lessons.pretraining.data import CORPORA, training_text
from app.page import LessonPage, Preset

INTRO = (
    "What a model is trained to **predict** decides what it can do. A **causal LM** (GPT) reads left to right and "
    "predicts every next token; a **masked LM** (BERT) sees both sides but is asked about 15 % of the tokens only; "
    "**ELECTRA** lets a small generator fill the masks and trains a discriminator to spot the replaced tokens, so "
    "every token gives a signal. Below, the three train side by side from one seed on one text, BERT's 80/10/10 "
    "masking is opened up, a tiny model is instruction-tuned with the prompt masked out of the loss, and SmolLM2's "
    "real chat template shows what a chat model reads. Every number is computed on this page."
)

PRESETS = {  # full state: settings not named go back to their defaults; each opens the tab that shows it
    "Lecture demo: both sides fill blanks better": Preset(
        "Counting over the Wikipedia sample, 2 characters on each side of a blank fill over 65 % of held-out blanks, "
        "4 characters on the left only (what a causal model reads) under 60 %.",
        tab=objectives_tab.TITLE,
    ),
    "Lecture demo: ELECTRA learns from every token": Preset(
        "Press Step: the causal LM and ELECTRA's discriminator get a loss on 100 % of the tokens, the masked LM on "
        "about 15 % (between 10 and 20 % in a step).",
        tab=objectives_tab.TITLE,
    ),
    "Lecture demo: BERT's 80/10/10": Preset(
        "Over 100,000 characters of Wikipedia, 15.0 ± 0.5 % are chosen; of the chosen, 80 ± 1.5 % become [MASK], "
        "10 ± 1 % a random character, 10 ± 1 % stay.",
        tab=masking_tab.TITLE,
    ),
    "Lecture demo: the chat template": Preset(
        "SmolLM2's template wraps a question in <|im_start|>user … <|im_end|> and opens the assistant's turn: "
        "the page lists every token apply_chat_template gives.",
        tab=chat_tab.TITLE,
    ),
}
TABS = [objectives_tab, masking_tab, instruction_tab, chat_tab]


@dataclass
class Setup:
    text: str  # the training text of the objectives
    text_label: str
    corpus: str  # its name ("user" for the user's own)


def controls(page: LessonPage) -> Setup | None:
    """The text every tab shares; None (a bad text, with its message shown) stops the page."""
    left, right = st.columns([1, 3])
    page.widget(left.selectbox, "corpus", "Training text", list(CORPORA), default="wiki", format_func=CORPORA.get)
    if page.value("corpus") == "user":
        page.widget(
            right.text_area,
            "user_text",
            "Your text (a few thousand characters at least)",
            default="",
            height=100,
            url=False,
        )
    text = page.compute(
        "text", "Reading the training text", training_text, page.value("corpus", "wiki"), page.value("user_text", "")
    )
    if text is None:
        return None
    return Setup(text[1], text[0], page.value("corpus", "wiki"))
