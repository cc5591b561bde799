"""The next-token explorer (Lectures 3 and 9): a real causal LM's next-token distribution, the sampling filters
(temperature, top-k, top-p) and token-by-token sampling.

`controls` draws the prompt and the sampling settings, runs the model (only when its input changed: moving a
sampling slider re-filters the cached logits) and hands the tabs a `Prediction`; forward.py holds that work.
"""

import streamlit as st

from app.lessons.next_token import distribution_tab, forward, sample_tab
from app.page import LessonPage, Preset
from app.resources import model_picker
from models.next_token.sampling import SamplingConfig

INTRO = (
    "A language model reads the prompt and gives **a probability for every token in its vocabulary** to come "
    "next. Generation is just repeated sampling from that distribution, after reshaping it: **temperature** "
    "divides the logits (sharper below 1, flatter above), **top-k** keeps the k likeliest tokens, **top-p** "
    "keeps the smallest set whose probability adds up to p."
)

PRESETS = {  # full state: settings not named go back to their defaults; each opens the tab that shows it
    "Lecture demo: greedy-ish": Preset(
        "At temperature 0.1 the likeliest token takes nearly all the probability: sampling is almost greedy decoding.",
        tab=distribution_tab.TITLE,
        values={"temperature": 0.1},
    ),
    "Lecture demo: creative": Preset(
        "At temperature 1.5 the distribution flattens: its entropy rises and unlikely tokens get a real chance.",
        tab=distribution_tab.TITLE,
        values={"temperature": 1.5},
    ),
    "Lecture demo: nucleus 0.9": Preset(
        "Top-p 0.9 keeps the fewest tokens that together hold 90 % of the probability and cuts the long tail.",
        tab=distribution_tab.TITLE,
        values={"top_p": 0.9, "log_y": True},
    ),
    "Lecture demo: top-k 5": Preset(
        "Top-k 5 keeps exactly the five likeliest tokens and renormalises over them.",
        tab=distribution_tab.TITLE,
        values={"top_k": 5, "log_y": True},
    ),
}
TABS = [distribution_tab, sample_tab]


def controls(page: LessonPage):
    """Model, prompt and sampling settings; the model runs here, so an error shows next to the prompt."""
    left, middle, right = st.columns([5, 3, 3])
    with middle:
        page.widget(st.slider, "temperature", "Temperature", 0.05, 2.0, step=0.05, default=1.0)
        page.widget(st.slider, "top_k", "Top-k (0 = off)", 0, 200, step=1, default=0)
    with right:
        page.widget(st.slider, "top_p", "Top-p (1 = off)", 0.05, 1.0, step=0.01, default=1.0)
        page.widget(st.toggle, "chat", "Chat template (instruct models)", default=False)
    with left:
        page.widget(
            st.text_area,
            "prompt",
            "Prompt",
            default=forward.DEFAULT_PROMPT,
            height=100,
            max_chars=20_000,
        )
        with st.expander("Model, chart and sampling seed"):
            model_name, allow_download = model_picker(page, kinds=("causal",))
            bars, seed = st.columns(2)
            page.widget(bars.slider, "bars", "Tokens shown in the chart", 5, 60, default=20)
            page.widget(seed.number_input, "seed", "Sampling seed", 0, 1_000_000, default=0)
        config = page.config(SamplingConfig, "The sampling settings")
        loaded = page.compute(
            "model",
            "Loading the model",
            forward.load_causal_lm,
            model_name,
            page.device,
            allow_download,
        )
        if loaded is None or config is None:
            return None
        model, tokenizer = loaded
        source = (model_name, page.device, page.value("prompt"), page.value("chat"))
        return page.compute(
            "forward",
            "Running the model",
            forward.predict,
            page,
            model,
            tokenizer,
            source,
            config,
        )
