"""Prompting and in-context learning (Lecture 9): a real model (SmolLM2) classifies by prompting; one module per tab.

`controls` draws the prompt every tab shares (data, template, label words, shots, order seed, calibration) and
loads the model; work.py builds what the tabs share, figures.py draws it; each *_tab.py draws one tab.
"""

import streamlit as st

from app.lecture import advanced_controls
from app.lessons.prompting import cot_tab, ensemble_tab, few_shot_tab, prompt_tab, sweep_tab, work
from app.page import LessonPage, Preset
from app.resources import model_picker
from models.prompting.data import MAX_TEXT_CHARS, REVIEW_LABELS
from models.prompting.few_shot import CALIBRATIONS, DEFAULT_TEMPLATE, FewShotConfig

INTRO = (
    "Prompting turns a task into text: a **template** with a slot for the input and one for the answer, "
    "**label words** for the answers (the verbalizer), and a few solved **examples** in the context (zero-, one-, "
    "few-shot). No weight changes: the model's answer is the label word it finds likeliest in the slot. Which "
    "examples, their **order** and the label words all move the accuracy; a content-free input (“N/A”) measures the "
    "model's bias, and **contextual calibration** divides it out (Zhao et al. 2021). Everything below is computed "
    "live with SmolLM2-135M-Instruct (its Q4_1 GGUF weights, dequantised) on Pang & Lee's movie-review sentences. "
    "Learning the prompt itself as vectors (prompt tuning, soft prompts) is in the LoRA lesson's "
    "[PEFT families](/lora?lora.tab=PEFT+families) tab."
)

PRESETS = {  # full state: settings not named go back to their defaults; each opens the tab that shows it
    "Lecture demo: calibration removes a label-word bias": Preset(
        "Zero-shot with the label words terrible / great, SmolLM2 answers “great” for over 90 % of the 24 reviews; "
        "contextual calibration lifts the accuracy by more than 20 points.",
        tab=few_shot_tab.TITLE,
        values={"shots": 0, "verbalizers": "terrible, great"},
    ),
    "Lecture demo: calibration over 3 order seeds": Preset(
        "With 4 shots drawn by order seeds 0, 1 and 2, contextual calibration raises the accuracy for every seed, "
        "by more than 5 points on average.",
        tab=few_shot_tab.TITLE,
        values={"seeds": 3},
    ),
    "Lecture demo: a label word of 3 tokens": Preset(
        "“mediocre” is 3 tokens for SmolLM2: its score is the sum of 3 log-probabilities, shown token by token.",
        tab=prompt_tab.TITLE,
        values={"verbalizers": "mediocre, superb"},
    ),
}
TABS = [few_shot_tab, sweep_tab, prompt_tab, cot_tab, ensemble_tab]  # each module: TITLE and render(page)
DATA_TITLES = {"reviews": "Movie reviews (Pang & Lee, 200 sentences)", "user": "Your own labelled lines"}


def controls(page: LessonPage) -> work.Setup | None:
    """The prompt every tab shares, the data and the model: a `work.Setup`, or None (a message is shown)."""
    left, right = st.columns([3, 2])
    with left:
        page.widget(
            st.text_area, "template", "Template: {x} is the input, {y} the answer slot", default=DEFAULT_TEMPLATE,
            height=90, max_chars=500,
        )  # fmt: skip
        page.widget(
            st.text_input, "verbalizers", "Label words, one per label, comma-separated (empty: the data's labels)",
            default="", max_chars=400, placeholder=", ".join(REVIEW_LABELS),
        )  # fmt: skip
    with right:
        page.widget(st.slider, "shots", "Shots (solved examples in the prompt)", 0, 16, default=4)
        a, b = st.columns(2)
        page.widget(a.number_input, "order_seed", "Order seed (which shots, which order)", 0, 10_000, default=0)
        page.widget(
            b.selectbox, "calibration", "Predictions use", list(CALIBRATIONS), default="none",
            format_func={"none": "no calibration", "contextual": "contextual calibration"}.get,
        )  # fmt: skip
        page.widget(st.selectbox, "data", "Data", list(DATA_TITLES), default="reviews", format_func=DATA_TITLES.get)
    text = ""
    if page.value("data") == "user":
        text = page.widget(
            st.text_area, "lines", "Your examples, one a line: label: text", default=work.EXAMPLE_LINES, height=160,
            max_chars=MAX_TEXT_CHARS,
        )  # fmt: skip
    with advanced_controls("Model and data size"):
        model_name, allow_download = model_picker(page, kinds=("causal",))
        a, b = st.columns(2)
        page.widget(a.slider, "n_eval", "Eval inputs (balanced over the labels)", 8, 100, step=4, default=24)
        page.widget(b.slider, "max_words", "Words per input (longer ones are cut)", 4, 60, default=16)
    n_eval, max_words = int(page.value("n_eval", 24)), int(page.value("max_words", 16))
    if page.value("data") == "user":
        data = page.compute("user-data", "Reading your lines", work.user_data, text, n_eval, max_words)
        if data is None:
            return None
        labels, train, evaluation, key = data
    else:
        labels, key = REVIEW_LABELS, ("reviews", n_eval, max_words)
        train, evaluation = page.shared(work.reviews, n_eval, max_words)
    words = page.compute(
        "verbalizers-parsed", "Reading the label words", work.label_words, page.value("verbalizers"), labels
    )
    if words is None:
        return None
    config = page.config(FewShotConfig, "The prompt", verbalizers=words)
    if config is None:
        return None
    if config.shots > len(train):
        st.error(
            f"{config.shots} shots need {config.shots} training examples; there are {len(train)}. Lower the shots."
        )
        return None
    loaded = page.compute("model", "Loading the model", work.load_causal_lm, model_name, page.device, allow_download)
    if loaded is None:
        return None
    model, tokenizer = loaded
    return work.Setup(model, tokenizer, model_name, page.device, key, labels, train, evaluation, config)
