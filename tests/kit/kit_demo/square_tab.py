import streamlit as st

TITLE = "Square"


def _square(n: int) -> int:
    if n == 4:
        raise ValueError("four is not allowed here")
    return n * n


def render(page) -> None:
    page.widget(st.text_input, "note", "A note of this tab (the Summary tab has its own)", default="")
    result = page.compute("square", "Squaring", _square, page.data.n)
    st.markdown(f"square={result} stale={page.stale('square')}")
