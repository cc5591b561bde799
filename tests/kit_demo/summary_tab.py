import json

import streamlit as st

TITLE = "Summary"


def render(page) -> None:
    st.markdown("settings=" + json.dumps(page.settings(), sort_keys=True))
