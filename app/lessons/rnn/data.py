"""The training text of the RNN lesson: a named corpus or the user's own, checked once."""

from __future__ import annotations

from app.resources import TRAINING_CORPORA, named_training_text, read_training_text

CORPORA = TRAINING_CORPORA  # the lesson's texts (the kit's, shared by the character-level lessons)
named_text = named_training_text  # a named corpus, cut to what a few hundred steps see (cached)


def training_text(corpus: str, user_text: str, bptt: int) -> tuple[str, str]:
    """-> (label, text). ValueError with what to do for an empty, one-character or too short text."""
    label, text = read_training_text(corpus, user_text)
    if corpus != "user":
        return label, text
    if len(set(text)) < 2:
        raise ValueError("The text uses a single character; a language model needs at least two.")
    if len(text) < bptt + 2:
        raise ValueError(
            f"The text has {len(text)} characters, shorter than one chunk: a BPTT length of {bptt} needs "
            f"{bptt + 2}. Paste more text or lower the BPTT length."
        )
    return "your text", text
