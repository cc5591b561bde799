"""Passages to retrieve from, and questions whose answers they hold: the Wikipedia sample cut into short chunks.

A retriever indexes *passages*, not whole articles: DPR (Karpukhin et al. 2020, https://arxiv.org/abs/2004.04906)
cuts Wikipedia into 100-word blocks, each prefixed with its article's title. Here the gensim Wikipedia sample
(models/corpora.py) is cleaned the same way as there, but kept per article (with its title), and the first few
blocks of each article form the pool: the lead sections, where the facts the questions ask about are.

QUESTIONS are hand-written factoid questions about those leads, each with its short answer and its article; the
*gold passage* is the first passage of that article that contains the answer (found, not hand-picked; a test checks
that every question has one).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from models import corpora

_MARKUP_QUOTES = re.compile(r"'{2,}")  # the wiki's ''italic'' and '''bold''' marks that filter_wiki leaves


@dataclass(frozen=True)
class Passage:
    title: str  # the article's title
    text: str  # the passage's words
    article: int  # which article (its index in the sample)
    block: int  # which block of its article (0 = the first)

    def full_text(self) -> str:
        """What the retrievers index and the prompt shows: "Title: text" (DPR's title prefix)."""
        return f"{self.title}: {self.text}"


@dataclass(frozen=True)
class Question:
    question: str
    answer: str  # the short answer, as it is written in the article
    title: str  # the article that holds it


QUESTIONS = [
    Question("What is the capital of Algeria?", "Algiers", "Algeria"),
    Question("Who composed An American in Paris?", "George Gershwin", "An American in Paris"),
    Question("Who wrote the novella Animal Farm?", "George Orwell", "Animal Farm"),
    Question("Which state borders Alabama to the north?", "Tennessee", "Alabama"),
    Question("Who was the mother of Achilles?", "Thetis", "Achilles"),
    Question("In which town in Kentucky was Abraham Lincoln born?", "Hodgenville", "Abraham Lincoln"),
    Question("In which city was Aristotle born?", "Stagira", "Aristotle"),
    Question("Who wrote the children's book Animalia?", "Graeme Base", "Animalia (book)"),
    Question("Who coined the word altruism?", "Auguste Comte", "Altruism"),
    Question("In which year did Ayn Rand move to the United States?", "1926", "Ayn Rand"),
    Question("Who developed the analysis of variance?", "Ronald Fisher", "Analysis of variance"),
    Question("Who is the twin sister of Apollo?", "Artemis", "Apollo"),
    Question("What is the capital of Andorra?", "Andorra la Vella", "Andorra"),
    Question("From which Oxford college did Aldous Huxley graduate?", "Balliol", "Aldous Huxley"),
    Question("Who wrote A Modest Proposal?", "Jonathan Swift", "A Modest Proposal"),
    Question("Who wrote the lyrics of America the Beautiful?", "Katharine Lee Bates", "America the Beautiful"),
    Question("Who was the commander of Apollo 8?", "Frank Borman", "Apollo 8"),
    Question("Who piloted the Apollo 11 command spacecraft alone in lunar orbit?", "Michael Collins", "Apollo 11"),
    Question("Who developed aikido?", "Morihei Ueshiba", "Aikido"),
    Question("In which year did Albert Einstein receive the Nobel Prize in Physics?", "1921", "Albert Einstein"),
    Question("Who has been the premier of Alberta since May 2015?", "Rachel Notley", "Alberta"),
    Question("Who is Dagny Taggart's brother?", "James Taggart", "List of Atlas Shrugged characters"),
]


@lru_cache(maxsize=1)
def wiki_articles() -> tuple[tuple[str, str], ...]:
    """(title, text) of every article of gensim's Wikipedia sample, as models/corpora.py cleans it, less the wiki's
    ''italic'' and '''bold''' marks."""
    articles = []
    for title, lines in corpora.wiki_articles():
        cleaned = [_MARKUP_QUOTES.sub("", ln).strip() for ln in lines]
        text = " ".join(ln for ln in cleaned if ln)
        if len(text) >= 200:
            articles.append((title, text))
    return tuple(articles)


def make_passages(articles, words: int = 64, per_article: int = 2) -> list[Passage]:
    """The first `per_article` blocks of `words` words of each (title, text) article, in order."""
    if not 8 <= words <= 400:
        raise ValueError(f"A passage needs 8 to 400 words (got {words}).")
    if per_article < 1:
        raise ValueError(f"Take at least one passage per article (got {per_article}).")
    passages = []
    for a, (title, text) in enumerate(articles):
        tokens = text.split()
        for block in range(min(per_article, -(-len(tokens) // words))):
            chunk = " ".join(tokens[block * words : (block + 1) * words])
            passages.append(Passage(title, chunk, a, block))
    if not passages:
        raise ValueError("No passages: the articles are empty.")
    return passages


def wiki_passages(words: int = 64, per_article: int = 2) -> list[Passage]:
    return make_passages(wiki_articles(), words, per_article)


def gold_passage(passages: list[Passage], question: Question) -> int | None:
    """The index of the first passage of the question's article that contains its answer, or None."""
    for i, passage in enumerate(passages):
        if passage.title == question.title and question.answer.lower() in passage.text.lower():
            return i
    return None


def answer_in(answer: str, text: str) -> bool:
    """Exact match, loosely: the answer's words appear, in order, in the text (case and punctuation ignored)."""

    def norm(s: str) -> str:
        return " " + " ".join(re.findall(r"\w+", s.lower())) + " "

    return norm(answer) in norm(text)
