"""The app shell: page config, sectioned navigation and the shared sidebar, around whichever page is open.
`require_entry_script` keeps a deep link on a fresh server inside this shell."""

import streamlit as st

from app.navigation import build_navigation
from app.sidebar import render_sidebar
from app.streamlit_compat import leave_automatic_pages_mode


def run_app() -> None:
    st.set_page_config(page_title="NLP Playground", page_icon="🧪", layout="wide")
    page = build_navigation()
    render_sidebar()
    page.run()


def require_entry_script() -> None:
    """Make sure a page runs inside the app shell's navigation (call first thing in every page).

    On a server's very first session a deep link runs the page file directly, in Streamlit's automatic `pages/`
    mode (see app/streamlit_compat.py); then leave that mode, run the shell (which runs this page again,
    properly) and stop this outer run.
    """
    if leave_automatic_pages_mode():
        run_app()
        st.stop()
