"""The training text of the pre-training lesson: a named corpus or the user's own, checked once."""

from __future__ import annotations

from app.resources import TRAINING_CORPORA, named_training_text, read_training_text
from models.pretraining.objectives import split_text

CORPORA = TRAINING_CORPORA  # the lesson's texts (the kit's, shared by the character-level lessons)
named_text = named_training_text  # a named corpus, cut to what a few hundred steps see (cached)


def training_text(corpus: str, user_text: str) -> tuple[str, str]:
    """-> (label, text). ValueError with what to do for an unknown corpus or an empty, binary or too short text."""
    label, text = read_training_text(corpus, user_text)
    if corpus != "user":
        return label, text
    split_text(text)  # long enough for training windows and a held-out part, else its message
    return "your text", text
