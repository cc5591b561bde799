import json

import streamlit as st

TITLE = "Summary"
SHAPES = {"sq": "Square shape", "tri": "Triangle shape"}  # options named apart from their labels


def render(page) -> None:
    page.widget(st.text_input, "note", "A setting of this tab only", default="")
    page.widget(st.selectbox, "shape", "Shape", list(SHAPES), format_func=SHAPES.get, default="sq")
    st.markdown("settings=" + json.dumps(page.settings(), sort_keys=True))
