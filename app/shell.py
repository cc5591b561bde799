"""The app shell: page config, sectioned navigation and the shared sidebar, around whichever page is open."""

import streamlit as st

from app.navigation import build_navigation
from app.sidebar import render_sidebar


def run_app() -> None:
    st.set_page_config(page_title="NLP Playground", page_icon="🧪", layout="wide")
    page = build_navigation()
    render_sidebar()
    page.run()
