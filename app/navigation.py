"""The course map: every lesson page with its section, lecture and a one-line promise.

The Home page draws a card per lesson from this list and the entry script builds `st.navigation` from it. A lesson
is listed only when its page file exists, so there are never placeholder pages.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PAGES_DIR = ROOT / "pages"


@dataclass(frozen=True)
class Lesson:
    file: str  # page file in pages/
    title: str
    icon: str
    section: str
    lecture: str
    summary: str  # what you will see
    url_path: str  # the file's stem, so deep links work also before st.navigation first runs


LESSONS = [
    Lesson(
        "next_token.py",
        "Next-token explorer",
        "🔮",
        "Foundations",
        "Lectures 3 and 9",
        "Type a prompt and watch SmolLM2's next-token distribution; see which tokens survive "
        "temperature, top-k and top-p, and sample a continuation token by token.",
        "next_token",
    ),
    Lesson(
        "word_embeddings.py",
        "Word embeddings",
        "🧭",
        "Foundations",
        "Lecture 2",
        "Train word2vec live (skip-gram or CBOW with negative sampling), watch words cluster, "
        "solve analogies and compare with gensim.",
        "word_embeddings",
    ),
    Lesson(
        "ngrams.py",
        "N-gram smoothing",
        "🧮",
        "Foundations",
        "Lecture 3",
        "Count-based language models: why zero counts break them, how smoothing moves mass to "
        "the unseen, and perplexity across orders.",
        "ngrams",
    ),
    Lesson(
        "attention.py",
        "Attention",
        "🎯",
        "Transformers",
        "Lecture 5",
        "Queries, keys and values step by step, every head of a real model, positional encodings, "
        "and a tiny transformer trained live.",
        "attention",
    ),
]
SECTIONS = ["Foundations", "Transformers", "Adapting and aligning"]


def available_lessons() -> list[Lesson]:
    return [lesson for lesson in LESSONS if (PAGES_DIR / lesson.file).exists()]


def lessons_by_section() -> dict[str, list[Lesson]]:
    grouped: dict[str, list[Lesson]] = {}
    for section in SECTIONS:
        lessons = [lesson for lesson in available_lessons() if lesson.section == section]
        if lessons:
            grouped[section] = lessons
    return grouped


def build_navigation():
    """The `st.navigation` object: Home, then one group per section with its lessons."""
    import streamlit as st

    home = st.Page(str(PAGES_DIR / "home.py"), title="Home", icon="🏠", default=True)
    nav = {"": [home]}
    for section, lessons in lessons_by_section().items():
        nav[section] = [
            st.Page(
                str(PAGES_DIR / lesson.file),
                title=lesson.title,
                icon=lesson.icon,
                url_path=lesson.url_path,
            )
            for lesson in lessons
        ]
    return st.navigation(nav, position="sidebar")


def require_entry_script() -> None:
    """Make sure a page runs inside the app shell's navigation (call first thing in every page).

    On a server's very first session, a deep link (/ngrams) makes Streamlit run the page file directly in its old
    automatic `pages/` mode, before `streamlit_app.py` has ever called `st.navigation`: no sections, no sidebar.
    Then switch that mode off, run the shell (which runs this page again, properly) and stop this outer run.
    """
    import streamlit as st

    try:
        from streamlit.runtime.pages_manager import PagesManager
    except ImportError:  # a Streamlit without the old mode
        return
    if getattr(PagesManager, "uses_pages_directory", False):
        PagesManager.uses_pages_directory = False
        from app.shell import run_app

        run_app()
        st.stop()
