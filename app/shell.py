"""The app shell: page config, sectioned navigation and the shared sidebar, around whichever page is open."""

import streamlit as st

from app.lecture import PRESENTER_KEY, presenter_mode
from app.navigation import build_navigation
from app.sidebar import render_sidebar


def run_app() -> None:
    presenter = st.query_params.get(PRESENTER_KEY) == "true" or presenter_mode()
    # on a projector the sidebar's ~300 px go to the charts (it opens with its arrow)
    sidebar = "collapsed" if presenter else "auto"
    st.set_page_config(page_title="NLP Playground", page_icon="🧪", layout="wide", initial_sidebar_state=sidebar)
    page = build_navigation()
    render_sidebar()
    page.run()
