"""A two-tab lesson used only by tests/kit/test_page_kit.py to drive the kit (app/page.py) end to end."""

from dataclasses import dataclass

import streamlit as st

from app.page import LessonPage, Preset
from tests.kit.kit_demo import square_tab, summary_tab


@dataclass
class DemoConfig:
    n: int = 3  # a number to square
    word: str = "hi"

    def __post_init__(self):
        if self.n > 5:
            raise ValueError("n must be at most 5")


INTRO = "A demo lesson."
PRESETS = {
    "Big": Preset("n at its largest", summary_tab.TITLE, {"n": 5}),
    "Noted": Preset("a note on the Summary tab", summary_tab.TITLE, {"note": "from a preset"}),
}
TABS = [square_tab, summary_tab]


def controls(page: LessonPage):
    page.widget(st.number_input, "n", "N", 0, 10, default=3)
    page.widget(st.text_input, "word", "Word", default="hi")
    return page.config(DemoConfig, "The demo settings")
