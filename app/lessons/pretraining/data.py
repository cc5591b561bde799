"""The training text of the pre-training lesson: a named corpus or the user's own, checked once."""

from __future__ import annotations

from functools import lru_cache

from models.corpora import load_corpus_text
from models.pretraining.objectives import split_text
from models.text import check_text

CORPORA = {"wiki": "Wikipedia sample", "lee": "Lee news corpus", "user": "Your own text"}
MAX_CHARS = 300_000  # a tiny model sees a fraction of this in a few hundred steps


@lru_cache(maxsize=4)
def named_text(name: str) -> str:
    return load_corpus_text(name)[:MAX_CHARS]


def training_text(corpus: str, user_text: str) -> tuple[str, str]:
    """-> (label, text). ValueError with what to do for an unknown corpus or an empty, binary or too short text."""
    if corpus not in CORPORA:
        raise ValueError(f"Unknown corpus {corpus!r}; choose one of {', '.join(CORPORA)}.")
    if corpus != "user":
        return CORPORA[corpus], named_text(corpus)
    text = check_text(user_text)[:MAX_CHARS]
    split_text(text)  # long enough for training windows and a held-out part, else its message
    return "your text", text
