"""Tab "Kneser-Ney's idea": a lower order should ask after how many different words a word occurs.

'york' is frequent but nearly always follows 'new': counts against distinct left neighbours, the
words with the largest gap (the "San Francisco" words), and one word's left neighbours.
"""

import streamlit as st

from app.lessons.ngrams import cache, figures, tables
from app.page import LessonPage
from models.text import tokenize_words

TITLE = "Kneser-Ney's idea"


def neighbours_of(counts, word: str):
    """(word, its left neighbours) or None when there is no word to look up."""
    return (word, tables.left_neighbours(counts, word, 15)) if word else None


def render(page: LessonPage) -> None:
    data = page.data.data
    st.markdown(
        "A unigram model asks *how often* a word occurs. Kneser-Ney's lower orders ask *after how many "
        "different words* it occurs: 'york' is frequent but nearly always follows 'new', so after a context "
        "never seen it is a bad guess. Words far below the dotted line are the 'San Francisco' words."
    )
    frame = cache.continuation(data.key, data)
    h1, h2 = st.columns([3, 2])
    page.widget(
        h1.text_input,
        "word",
        "A word's left neighbours",
        default="",
        placeholder="the largest gap below",
    )
    page.widget(h2.toggle, "hide_starts", "Hide words that mostly open sentences", default=True)
    hide_starts = page.value("hide_starts")
    candidates = frame[frame["top left word"] != "(sentence start)"] if hide_starts else frame
    gaps = tables.largest_gaps(candidates, min_count=10, top=15)
    words = tokenize_words(page.value("word"))
    word = words[0] if words else (gaps["word"].iloc[0] if len(gaps) else "")
    marked = gaps["word"].head(8).tolist() + [word]
    figure = figures.continuation_scatter(frame, marked, max_points=3000)
    points = frame.head(3000)  # the most frequent words, the ones drawn
    page.chart(figure, points, "continuation")
    st.caption("The 3,000 most frequent words; hover a point for the word. Largest gaps:")
    gap_format = {
        "count per left word": "{:.1f}",
        "p unigram": "{:.2e}",
        "p continuation": "{:.2e}",
    }
    gap_format["top left share"] = "{:.0%}"
    page.table(gaps.style.format(gap_format), hide_index=True, width="stretch")
    st.caption(
        "p continuation = distinct left words / all distinct word pairs: Kneser-Ney's unigram, before "
        "discounting. For these words it is far below p unigram."
    )
    found = page.compute("word", "Looking up the word", neighbours_of, data.counts, word)
    if not word:
        st.info("No word here is seen 10 times or more: type one to see its left neighbours.")
    if found:
        shown_word, neighbours = found
        st.markdown(
            f"**The words right before '{shown_word}'** in training: few distinct ones means a low "
            "Kneser-Ney lower-order probability, however frequent the word is."
        )
        figure = figures.left_neighbour_bars(neighbours, shown_word)
        page.chart(figure, neighbours, "left")
