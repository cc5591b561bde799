"""The app's navigation, built from the lesson registry (app/lessons/__init__.py): Home, then one group per
section with its lessons."""

from __future__ import annotations

import streamlit as st

from app.lessons import PAGES_DIR, lessons_by_section


def build_navigation():
    """The `st.navigation` object: Home, then one group per section with its lessons."""
    home = st.Page(str(PAGES_DIR / "home.py"), title="Home", icon="🏠", default=True)
    nav = {"": [home]}
    for section, lessons in lessons_by_section().items():
        nav[section] = [
            st.Page(str(item.page_path), title=item.title, icon=item.icon, url_path=item.slug) for item in lessons
        ]
    return st.navigation(nav, position="sidebar", expanded=True)  # the whole course, no "View more"
