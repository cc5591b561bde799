"""The app's navigation, built from the lesson registry (app/lessons/__init__.py): Home, then one group per
section with its lessons. `require_entry_script` keeps a deep link on a fresh server inside this navigation."""

from __future__ import annotations

import streamlit as st

from app.lessons import PAGES_DIR, lessons_by_section
from app.streamlit_compat import leave_automatic_pages_mode


def build_navigation():
    """The `st.navigation` object: Home, then one group per section with its lessons."""
    home = st.Page(str(PAGES_DIR / "home.py"), title="Home", icon="🏠", default=True)
    nav = {"": [home]}
    for section, lessons in lessons_by_section().items():
        nav[section] = [
            st.Page(str(item.page_path), title=item.title, icon=item.icon, url_path=item.slug)
            for item in lessons
        ]
    return st.navigation(nav, position="sidebar")


def require_entry_script() -> None:
    """Make sure a page runs inside the app shell's navigation (call first thing in every page).

    On a server's very first session a deep link runs the page file directly, in Streamlit's automatic `pages/`
    mode (see app/streamlit_compat.py); then leave that mode, run the shell (which runs this page again,
    properly) and stop this outer run.
    """
    if leave_automatic_pages_mode():
        from app.shell import run_app

        run_app()
        st.stop()
