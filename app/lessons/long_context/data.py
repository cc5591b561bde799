"""The training text of the long-context lesson: the Lee news corpus (360k characters, loads in a second)."""

from __future__ import annotations

from functools import lru_cache

from models.corpora import load_corpus_text

TEXT_LABEL = "Lee news corpus"


@lru_cache(maxsize=1)
def training_text() -> str:
    return load_corpus_text("lee")
