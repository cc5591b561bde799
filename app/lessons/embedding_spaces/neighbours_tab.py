"""Tab "Neighbours and analogies": nearest words by cosine, 3CosAdd analogies, and the same query in every space.

The first view (a model's space, the lesson's own words) is the same for every student: its answers, charts and
tables are computed once per server (`page.shared`, `page.shared_figure`); other words stay in the session.
"""

import streamlit as st

from app.lessons.embedding_spaces import figures, spaces
from app.page import LessonPage

TITLE = "Neighbours and analogies"
WORD = "king"  # the default query word
ANALOGY = ("man", "king", "woman")  # the default a : b :: c


def neighbours(space, word: str, k: int):
    return space.most_similar(spaces.check_word(word), k=k)


def analogy(space, a: str, b: str, c: str, k: int):
    return space.analogy(*(spaces.check_word(w) for w in (a, b, c)), k=k)


def every_space(page: LessonPage, ask) -> dict:
    """The same question in each space: its answer, or its message (a word it does not hold)."""
    return answers_in(spaces.space_options(), page.device, ask)


def answers_in(names: list[str], device: str, ask) -> dict:
    answers = {}
    for name in names:
        try:
            answers[spaces.space_label(name)] = ask(spaces.get_space(name, device))
        except ValueError as exc:
            answers[spaces.space_label(name)] = f"— {str(exc).split(':')[0].split('(')[0].strip()}"
    return answers


# ---------------------------------------------------------------- the default view, once per server
def neighbours_in(name: str, device: str, word: str, k: int):
    return neighbours(spaces.token_space(name, device), word, k)


def analogy_in(name: str, device: str, a: str, b: str, c: str, k: int):
    return analogy(spaces.token_space(name, device), a, b, c, k)


def neighbours_chart(name: str, device: str, word: str, k: int):
    found = neighbours_in(name, device, word, k)
    return figures.neighbours_figure(found, f"Closest to “{word.strip()}”")


def analogy_chart(name: str, device: str, a: str, b: str, c: str, k: int):
    found = analogy_in(name, device, a, b, c, k)
    return figures.neighbours_figure(found, f"{b.strip()} − {a.strip()} + {c.strip()} ≈ ?")


def neighbours_table(device: str, word: str, k: int):
    """The neighbours of `word` in the models' spaces (no session's word2vec run among them)."""
    answers = answers_in(list(spaces.MODELS), device, lambda s: neighbours(s, word, k))
    return figures.compare_table(answers)


def analogy_table(device: str, a: str, b: str, c: str, k: int):
    answers = answers_in(list(spaces.MODELS), device, lambda s: analogy(s, a, b, c, k))
    return figures.compare_table(answers)


def render(page: LessonPage) -> None:
    space = page.data
    name = page.value("space", "smollm2")
    # the space on screen is a model's (not a word2vec run, not the last good one after a failed load)
    model_space = name in spaces.MODELS and not page.stale("space")
    only_models = spaces.space_options() == list(spaces.MODELS)  # the tables' columns
    k = page.widget(st.slider, "k", "Answers shown", 3, 30, default=10)
    left, right = st.columns(2)
    with left:
        st.markdown("**Nearest neighbours** (cosine similarity)")
        word = page.widget(
            st.text_input,
            "word",
            "Word",
            default=WORD,
            help="Case matters in SmolLM2's space (king, King); MiniLM's is lowercase.",
        )
        if model_space and word == WORD:
            found = page.compute(
                "neighbours", "Finding neighbours", page.shared, neighbours_in, name, page.device, word, k
            )
            chart = page.shared_figure(neighbours_chart, name, page.device, word, k)
        else:
            found = page.compute("neighbours", "Finding neighbours", neighbours, space, word, k)
            chart = None
        if found is not None:
            if chart is None:  # a student's own word: drawn in the session
                chart = figures.neighbours_figure(found, f"Closest to “{word.strip()}”")
            page.chart(chart, name="neighbours")
    with right:
        st.markdown("**Analogy** a : b :: c : ?  (3CosAdd: closest to b − a + c, the three excluded)")
        cols = st.columns(3)
        with cols[0]:
            a = page.widget(st.text_input, "analogy_a", "a", default=ANALOGY[0])
        with cols[1]:
            b = page.widget(st.text_input, "analogy_b", "b", default=ANALOGY[1])
        with cols[2]:
            c = page.widget(st.text_input, "analogy_c", "c", default=ANALOGY[2])
        if model_space and (a, b, c) == ANALOGY:
            answer = page.compute(
                "analogy", "Solving the analogy", page.shared, analogy_in, name, page.device, a, b, c, k
            )
            chart = page.shared_figure(analogy_chart, name, page.device, a, b, c, k)
        else:
            answer = page.compute("analogy", "Solving the analogy", analogy, space, a, b, c, k)
            chart = None
        if answer is not None:
            st.metric(
                f"{a.strip()} : {b.strip()} :: {c.strip()} : ?",
                answer[0][0],
                f"cosine {answer[0][1]:.3f}",
                delta_color="off",
                delta_arrow="off",
            )
            if chart is None:
                chart = figures.neighbours_figure(answer, f"{b.strip()} − {a.strip()} + {c.strip()} ≈ ?")
            page.chart(chart, name="analogy")
    st.markdown("**The same questions in every space**")
    both = st.columns(2)
    if only_models and word == WORD:
        table = page.shared(neighbours_table, page.device, word, min(k, 10), read_only=True)
    else:
        table = figures.compare_table(every_space(page, lambda s: neighbours(s, word, min(k, 10))))
    both[0].caption(f"Neighbours of “{word.strip()}”")
    with both[0]:
        page.table(table, width="stretch")
    if only_models and (a, b, c) == ANALOGY:
        table = page.shared(analogy_table, page.device, a, b, c, min(k, 10), read_only=True)
    else:
        table = figures.compare_table(every_space(page, lambda s: analogy(s, a, b, c, min(k, 10))))
    both[1].caption(f"{a.strip()} : {b.strip()} :: {c.strip()} : ?")
    with both[1]:
        page.table(table, width="stretch")
