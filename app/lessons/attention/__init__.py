"""Attention (Lecture 5): every head of a real model, one head step by step, positional encodings, and a
tiny transformer trained live.

One module per tab; the Real model tab loads the model that the step-through reuses. Pure helpers (no
Streamlit): labels, heads, measures, step_through, positional_figures, tiny_trainer.
"""

from app.lessons.attention import positional_tab, real_model_tab, step_through_tab, training_tab
from app.lessons.attention.real_model_tab import DEFAULT_TEXT, SINK_TEXT
from app.page import Preset

INTRO = (
    "Each token asks a **query**, every token offers a **key** and a **value**: "
    "weights = softmax(Q·Kᵀ/√d), output = weights·V. Every row of weights is a probability "
    "distribution over the tokens a position may look at. Below: all heads of a real model, one "
    "head worked out number by number, how transformers know where a token sits, and a tiny "
    "transformer learning to attend."
)


def real(shows: str, source: str, layer: int, head: int, text: str = DEFAULT_TEXT) -> Preset:
    values = {"model": "smollm2", "source": source, "layer": layer, "head": head, "text": text}
    return Preset(shows, real_model_tab.TITLE, values)


def train(shows: str, task: str, positional: str, causal: bool, steps: int) -> Preset:
    values = {"task": task, "positional": positional, "causal": causal, "steps": steps}
    return Preset(shows, training_tab.TITLE, values)


PRESETS = {
    "Lecture demo: previous-token head": real(
        "SmolLM2's layer 1, head 2 looks at the token just before: a bright line under the "
        "diagonal, previous-token score near 1.",
        "text",
        1,
        2,
    ),
    "Lecture demo: attention sink": real(
        "In SmolLM2's middle layers most attention goes to the first token (the sink): layer 20, "
        "head 3 puts most of its weight on it.",
        "text",
        20,
        3,
        SINK_TEXT,
    ),
    "Lecture demo: induction head": real(
        "On random tokens repeated twice, layer 18, head 6 looks at the token that followed the "
        "same token in the first copy: induction score above 0.5.",
        "random",
        18,
        6,
    ),
    "Lecture demo: reverse without positions": train(
        "Without positions (and without a mask) the tiny transformer cannot reverse a sequence: "
        "its accuracy stays near chance.",
        "reverse",
        "none",
        False,
        400,
    ),
    "Lecture demo: reverse with sinusoidal": train(
        "With sinusoidal positions the same model learns to reverse: accuracy climbs to 100%.",
        "reverse",
        "sinusoidal",
        False,
        400,
    ),
    "Lecture demo: LM that reads the future": train(
        "Without a causal mask a character LM reads the next character: its training loss dives, "
        "but its autoregressive loss (generation) stays high.",
        "char_lm",
        "sinusoidal",
        False,
        300,
    ),
    "Lecture demo: honest LM": train(
        "With the causal mask the character LM's teacher-forced and autoregressive losses agree.",
        "char_lm",
        "sinusoidal",
        True,
        300,
    ),
}
TABS = [real_model_tab, step_through_tab, positional_tab, training_tab]
