"""The training text of the MoE lesson: a named corpus or the user's own, checked once."""

from __future__ import annotations

from functools import lru_cache

from models.corpora import load_corpus_text
from models.text import check_text

CORPORA = {"wiki": "Wikipedia sample", "lee": "Lee news corpus", "user": "Your own text"}
MAX_CHARS = 300_000  # a tiny model sees a fraction of this in a few hundred steps


@lru_cache(maxsize=4)
def _named(name: str) -> str:
    return load_corpus_text(name)[:MAX_CHARS]


def training_text(corpus: str, user_text: str, context: int) -> tuple[str, str]:
    """-> (label, text). ValueError with what to do for an empty, too short or one-character text."""
    if corpus != "user":
        return CORPORA[corpus], _named(corpus)
    text = check_text(user_text)[:MAX_CHARS]
    if len(set(text)) < 2:
        raise ValueError("The text uses a single character; a language model needs at least two.")
    if len(text) < context + 2:
        raise ValueError(f"The text has {len(text)} characters; one training window needs {context + 2}. Paste more.")
    return "your text", text
