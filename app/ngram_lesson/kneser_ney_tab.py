"""Tab "Kneser-Ney's idea": a lower order should ask after how many different words a word occurs.

'york' is frequent but nearly always follows 'new': counts against distinct left neighbours, the
words with the largest gap (the "San Francisco" words), and one word's left neighbours.
"""

import streamlit as st

from app.errors import friendly_errors
from app.lecture import show_chart
from app.ngram_lesson import cache, figures, tables
from app.ngram_lesson.data import Lesson
from app.ngram_lesson.keys import STATE, URL, P
from models.text import tokenize_words


def render(lesson: Lesson) -> None:
    data = lesson.data
    st.markdown(
        "A unigram model asks *how often* a word occurs. Kneser-Ney's lower orders ask *after how many "
        "different words* it occurs: 'york' is frequent but nearly always follows 'new', so after a context "
        "never seen it is a bad guess. Words far below the dotted line are the 'San Francisco' words."
    )
    frame = cache.continuation(data.key, data)
    h1, h2 = st.columns([3, 2])
    word_text = h1.text_input(
        "A word's left neighbours", "", key=f"{P}word", placeholder="the largest gap below", **URL
    )
    hide_starts = h2.toggle("Hide words that mostly open sentences", True, key=f"{P}starts", **URL)
    candidates = frame[frame["top left word"] != "(sentence start)"] if hide_starts else frame
    gaps = tables.largest_gaps(candidates, min_count=10, top=15)
    words = tokenize_words(word_text)
    word = words[0] if words else (gaps["word"].iloc[0] if len(gaps) else "")
    marked = gaps["word"].head(8).tolist() + [word]
    figure = figures.continuation_scatter(frame, marked, max_points=3000)
    points = frame.head(3000)  # the most frequent words, the ones drawn
    show_chart(figure, points, "ngram-continuation-counts", P, key=f"{P}chart-continuation")
    st.caption("The 3,000 most frequent words; hover a point for the word. Largest gaps:")
    gap_format = {
        "count per left word": "{:.1f}",
        "p unigram": "{:.2e}",
        "p continuation": "{:.2e}",
    }
    gap_format["top left share"] = "{:.0%}"
    st.dataframe(gaps.style.format(gap_format), hide_index=True, width="stretch")
    st.caption(
        "p continuation = distinct left words / all distinct word pairs: Kneser-Ney's unigram, before "
        "discounting. For these words it is far below p unigram."
    )
    with friendly_errors("Looking up the word"):
        if not word:
            st.session_state.pop(f"{STATE}word", None)
            st.info("No word here is seen 10 times or more: type one to see its left neighbours.")
        else:
            st.session_state[f"{STATE}word"] = (word, tables.left_neighbours(data.counts, word, 15))
    if st.session_state.get(f"{STATE}word"):
        shown_word, neighbours = st.session_state[f"{STATE}word"]
        st.markdown(
            f"**The words right before '{shown_word}'** in training: few distinct ones means a low "
            "Kneser-Ney lower-order probability, however frequent the word is."
        )
        figure = figures.left_neighbour_bars(neighbours, shown_word)
        show_chart(figure, neighbours, "ngram-left-neighbours", P, key=f"{P}chart-left")
