"""Tab "Neighbours and analogies": nearest words by cosine, 3CosAdd analogies, and the same query in every space."""

import streamlit as st

from app.lessons.embedding_spaces import figures, spaces
from app.page import LessonPage

TITLE = "Neighbours and analogies"


def neighbours(space, word: str, k: int):
    return space.most_similar(spaces.check_word(word), k=k)


def analogy(space, a: str, b: str, c: str, k: int):
    return space.analogy(*(spaces.check_word(w) for w in (a, b, c)), k=k)


def every_space(page: LessonPage, ask) -> dict:
    """The same question in each space: its answer, or its message (a word it does not hold)."""
    answers = {}
    for name in spaces.space_options():
        try:
            answers[spaces.space_label(name)] = ask(spaces.get_space(name, page.device))
        except ValueError as exc:
            answers[spaces.space_label(name)] = f"— {str(exc).split(':')[0].split('(')[0].strip()}"
    return answers


def render(page: LessonPage) -> None:
    space = page.data
    k = page.widget(st.slider, "k", "Answers shown", 3, 30, default=10)
    left, right = st.columns(2)
    with left:
        st.markdown("**Nearest neighbours** (cosine similarity)")
        word = page.widget(
            st.text_input,
            "word",
            "Word",
            default="king",
            help="Case matters in SmolLM2's space (king, King); MiniLM's is lowercase.",
        )
        found = page.compute("neighbours", "Finding neighbours", neighbours, space, word, k)
        if found is not None:
            page.chart(
                figures.neighbours_figure(found, f"Closest to “{word.strip()}”"), name="neighbours"
            )
    with right:
        st.markdown(
            "**Analogy** a : b :: c : ?  (3CosAdd: closest to b − a + c, the three excluded)"
        )
        cols = st.columns(3)
        with cols[0]:
            a = page.widget(st.text_input, "analogy_a", "a", default="man")
        with cols[1]:
            b = page.widget(st.text_input, "analogy_b", "b", default="king")
        with cols[2]:
            c = page.widget(st.text_input, "analogy_c", "c", default="woman")
        answer = page.compute("analogy", "Solving the analogy", analogy, space, a, b, c, k)
        if answer is not None:
            st.metric(
                f"{a.strip()} : {b.strip()} :: {c.strip()} : ?",
                answer[0][0],
                f"cosine {answer[0][1]:.3f}",
                delta_color="off",
                delta_arrow="off",
            )
            page.chart(
                figures.neighbours_figure(answer, f"{b.strip()} − {a.strip()} + {c.strip()} ≈ ?"),
                name="analogy",
            )
    st.markdown("**The same questions in every space**")
    both = st.columns(2)
    table = figures.compare_table(every_space(page, lambda s: neighbours(s, word, min(k, 10))))
    both[0].caption(f"Neighbours of “{word.strip()}”")
    both[0].dataframe(table, width="stretch")
    table = figures.compare_table(every_space(page, lambda s: analogy(s, a, b, c, min(k, 10))))
    both[1].caption(f"{a.strip()} : {b.strip()} :: {c.strip()} : ?")
    both[1].dataframe(table, width="stretch")
