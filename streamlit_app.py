"""NLP Playground: the entry script. Run with `streamlit run streamlit_app.py`."""

import streamlit as st

from app.navigation import build_navigation
from app.sidebar import render_sidebar

st.set_page_config(page_title="NLP Playground", page_icon="🧪", layout="wide")
page = build_navigation()
render_sidebar()
page.run()
