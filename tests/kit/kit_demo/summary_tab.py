import json

import streamlit as st

TITLE = "Summary"


def render(page) -> None:
    page.widget(st.text_input, "note", "A setting of this tab only", default="")
    st.markdown("settings=" + json.dumps(page.settings(), sort_keys=True))
