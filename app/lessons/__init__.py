"""The course map: every lesson declared once.

A lesson's **slug** is one word used everywhere: the page file (`pages/<slug>.py`), the URL path (`/<slug>`), the
package of its tabs (`app/lessons/<slug>/`), the prefix of its settings (`<slug>.<config field>` as widget key and
query parameter), its session state (`<slug>:<name>`), its benchmark (`benchmarks/<slug>.py`) and its tests
(`tests/test_<slug>*.py`). Navigation, the Home cards, the page tests, the browser test and the benchmarks all read
`LESSONS`. How to add a lesson: app/lessons/README.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
PAGES_DIR = ROOT / "pages"
SECTIONS = ["Foundations", "Transformers", "Adapting and aligning", "Efficient inference"]


@dataclass(frozen=True)
class Lesson:
    slug: str  # page file stem = URL path = package = settings prefix = benchmark name
    title: str
    icon: str
    section: str  # one of SECTIONS
    lecture: str
    summary: str  # the Home card's promise: what you will see
    old_prefix: str = (
        ""  # settings prefix of old links (e.g. "ng_"), translated so they keep working
    )
    package_name: str = (
        ""  # where its tabs live; empty = app.lessons.<slug> (tests point elsewhere)
    )

    @property
    def file(self) -> str:
        return f"{self.slug}.py"

    @property
    def page_path(self) -> Path:
        return PAGES_DIR / self.file

    @property
    def package(self) -> str:
        return self.package_name or f"app.lessons.{self.slug}"


LESSONS = [
    Lesson(
        "next_token",
        "Next-token explorer",
        "🔮",
        "Foundations",
        "Lectures 3 and 9",
        "Type a prompt and watch SmolLM2's next-token distribution; see which tokens survive "
        "temperature, top-k and top-p, and sample a continuation token by token.",
        old_prefix="nt_",
    ),
    Lesson(
        "word_embeddings",
        "Word embeddings",
        "🧭",
        "Foundations",
        "Lecture 2",
        "Train word2vec live (skip-gram or CBOW with negative sampling), watch words cluster, "
        "solve analogies and compare with gensim.",
        old_prefix="we_",
    ),
    Lesson(
        "ngrams",
        "N-gram smoothing",
        "🧮",
        "Foundations",
        "Lecture 3",
        "Count-based language models: why zero counts break them, how smoothing moves mass to "
        "the unseen, and perplexity across orders.",
        old_prefix="ng_",
    ),
    Lesson(
        "attention",
        "Attention",
        "🎯",
        "Transformers",
        "Lecture 5",
        "Queries, keys and values step by step, every head of a real model, positional encodings, "
        "and a tiny transformer trained live.",
        old_prefix="at_",
    ),
]


def lesson(slug: str) -> Lesson:
    for item in LESSONS:
        if item.slug == slug:
            return item
    raise KeyError(f"no lesson {slug!r} in LESSONS")


def available_lessons() -> list[Lesson]:
    """Lessons whose page file exists (so there are never placeholder pages)."""
    return [item for item in LESSONS if item.page_path.exists()]


def lessons_by_section() -> dict[str, list[Lesson]]:
    grouped: dict[str, list[Lesson]] = {}
    for section in SECTIONS:
        members = [item for item in available_lessons() if item.section == section]
        if members:
            grouped[section] = members
    return grouped
