"""Pretrained embedding spaces: static token vectors, contextual vectors, sentence vectors (issue 13).

One module per tab; `controls` picks the static space the first three tabs query (spaces.py builds and caches it).
"""

import streamlit as st

from app.lessons.embedding_spaces import (
    contextual_tab,
    map_tab,
    neighbours_tab,
    scores_tab,
    sentences_tab,
    spaces,
)
from app.page import LessonPage, Preset

INTRO = (
    "A language model's first layer is a table with one vector per token. For tokens that are whole words "
    "(“ king”, “ queen”) that table is a **word-embedding space**: SmolLM2-135M's (here its Q4_1 GGUF, dequantised) was learned from about 2 "
    "trillion tokens, MiniLM's from BERT-style pre-training and a billion sentence pairs, against the 430k words "
    "the Word embeddings page trains on. Ask it for neighbours and analogies "
    "(king − man + woman), map word groups, and score it on WordSim, SimLex and Google's analogies beside "
    "your own word2vec run. Then leave static vectors behind: a transformer's hidden states give *bank* a "
    "different vector in every sentence (SmolLM2, a left-to-right model, sees only the words before it, like "
    "ELMo's forward half and GPT; MiniLM, a BERT encoder, sees both sides), and MiniLM's pooled states put "
    "paraphrases side by side."
)

BANK = contextual_tab.BANK
PLAY = "\n".join(
    [
        "game | The children play football after school.",
        "game | Let's play a game of chess tonight.",
        "theatre | We watched a play by Shakespeare at the theatre.",
        "theatre | The play opened on Broadway last night.",
        "music | She learned to play the piano as a child.",
        "music | He can play the guitar by ear.",
    ]
)

PRESETS = {
    "Lecture demo: king − man + woman in SmolLM2": Preset(
        "SmolLM2's token vectors answer man : king :: woman : ? with queen, first, at cosine 0.73.",
        tab=neighbours_tab.TITLE,
        values={
            "space": "smollm2",
            "word": "king",
            "analogy_a": "man",
            "analogy_b": "king",
            "analogy_c": "woman",
        },
    ),
    "Lecture demo: Grammar as a direction: walk → walked, go → ?": Preset(
        "The past-tense offset finds went among the first answers (irregular verbs included).",
        tab=neighbours_tab.TITLE,
        values={
            "space": "smollm2",
            "word": "went",
            "analogy_a": "walk",
            "analogy_b": "walked",
            "analogy_c": "go",
        },
    ),
    "Lecture demo: Map: royalty, family, countries, capitals": Preset(
        "Four groups, four clusters in SmolLM2's space: royalty, family words, countries and capitals (the "
        "last two side by side).",
        tab=map_tab.TITLE,
        values={"space": "smollm2", "dims": 2},
    ),
    "Lecture demo: 430k words against 2 trillion tokens": Preset(
        "WordSim-353: 0.41 for SmolLM2's and 0.78 for MiniLM's token vectors, against 0.16 to 0.19 for "
        "word2vec on the Wikipedia sample (train one on the Word embeddings page to add it); read the coverage.",
        tab=scores_tab.TITLE,
    ),
    "Lecture demo: River bank or money bank? (MiniLM)": Preset(
        "One static vector for bank; in MiniLM's last layer the two senses separate: same-sense cosine above "
        "different-sense cosine.",
        tab=contextual_tab.TITLE,
        values={
            "context_model": "minilm",
            "context_word": "bank",
            "context_sentences": BANK,
            "layer": 6,
        },
    ),
    "Lecture demo: Play: a game, a theatre, the piano (SmolLM2)": Preset(
        "At layer 0 every play is the same point (SmolLM2's static vector); deeper layers pull the three senses apart.",
        tab=contextual_tab.TITLE,
        values={
            "context_model": "smollm2",
            "context_word": "play",
            "context_sentences": PLAY,
            "layer": 12,
        },
    ),
    "Lecture demo: Paraphrases find each other (sentence vectors)": Preset(
        "MiniLM's sentence vectors: each sentence's nearest neighbour is its paraphrase (cosine 0.6 to 0.75, "
        "though they share few words); unrelated pairs sit near 0.1.",
        tab=sentences_tab.TITLE,
    ),
}
TABS = [neighbours_tab, map_tab, scores_tab, contextual_tab, sentences_tab]


def controls(page: LessonPage):
    """The static space that the Neighbours, Map and Benchmarks tabs query."""
    options = spaces.space_options()
    if (
        page.has_value("space") and page.value("space") not in options
    ):  # a preset naming a run this session does not have (a link's is refused with a note by the kit)
        page.set_value("space", "smollm2")
    page.widget(
        st.selectbox,
        "space",
        "Static word space",
        options,
        default="smollm2",
        format_func=spaces.space_label,
        help="Whole-word rows of a model's input embedding matrix, or the word2vec run you trained on the "
        "Word embeddings page (listed once you have trained one). Used by the first two tabs.",
    )
    name = page.value("space", "smollm2")
    space = page.compute("space", "Loading the space", spaces.get_space, name, page.device)
    if space is None:
        return None
    st.caption(f"{spaces.space_label(name)}: {len(space):,} words of {space.vectors.shape[1]} dimensions.")
    return space
