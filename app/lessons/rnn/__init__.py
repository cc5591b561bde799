"""Recurrent networks (Lecture 4): one module per tab; `controls` builds the settings every tab shares."""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from app.lessons.rnn import bptt_tab, clip_tab, exposure_tab, gates_tab, memory_tab, padding_tab, train_tab
from app.lessons.rnn.data import CORPORA, training_text
from app.page import LessonPage, Preset
from models.rnn.model import MAX_BPTT, MAX_HIDDEN, RNNConfig

INTRO = (
    "A **recurrent network** reads a text one character at a time and passes a compressed **state** h along. "
    "Training it means backpropagation through time: the gradient that reaches a character d steps back is a "
    "product of d Jacobians, so it **vanishes** (or explodes). The **LSTM** adds a cell path that is only scaled "
    "by a forget gate, and the **GRU** copies h forward through an update gate: gradient survives. Below, a "
    "vanilla RNN, an LSTM and a GRU train side by side on one text from one seed; the other tabs open up "
    "long-range memory, clipping, the gates, padding, truncated BPTT and exposure bias. Every number is measured "
    "on this page."
)

PRESETS = {  # full state: settings not named go back to their defaults; each opens the tab that shows it
    "Lecture demo: the gradient vanishes before training": Preset(
        "Before any training, the vanilla RNN's gradient 63 characters back is below 10⁻¹⁰ of the gradient at "
        "the last position; the LSTM's (forget bias 1) stays above 10⁻⁹.",
        tab=train_tab.TITLE,
    ),
    "Lecture demo: a forget bias of 0 decays too": Preset(
        "With the forget-gate bias at 0 (f ≈ 0.5) the untrained LSTM's gradient 63 characters back falls "
        "below 10⁻¹⁰ as well: the gate, not the architecture alone, keeps the cell path open.",
        tab=train_tab.TITLE,
        values={"forget_bias": 0.0},
    ),
    "Lecture demo: gates remember, the RNN forgets": Preset(
        "Press Start: after 100 steps the LSTM and the GRU recall a symbol 10 steps back over 90 % of the time, "
        "the vanilla RNN at most 70 % (chance: 25 %). This holds for the page's seed 0; with other seeds the "
        "vanilla RNN sometimes gets through at 10 steps too, never at 40.",
        tab=memory_tab.TITLE,
    ),
    "Lecture demo: clipping tames an explosion": Preset(
        "At SGD learning rate 2 a vanilla RNN's gradient norm spikes above 5; after 60 steps the "
        "unclipped run's loss is over 1 nat above the run clipped at 1.",
        tab=clip_tab.TITLE,
    ),
    "Lecture demo: scheduled sampling pays off on its own samples": Preset(
        "Press Start: after 300 steps the teacher-forced LSTM has the lower teacher-forced loss (by about 0.05 "
        "nat), but when half of the inputs are the models' own samples, the LSTM trained with scheduled sampling "
        "is over 0.15 nat lower (measured at seeds 0, 1 and 2, with 1 and 2 torch threads).",
        tab=exposure_tab.TITLE,
    ),
    "Lecture demo: bucketing saves padding": Preset(
        "Batches of 32 Wikipedia sentences drawn at random are over half padding; sorted by length (bucketed), "
        "under 10 %.",
        tab=padding_tab.TITLE,
    ),
}
TABS = [train_tab, memory_tab, clip_tab, gates_tab, padding_tab, bptt_tab, exposure_tab]


@dataclass
class Setup:
    config: RNNConfig  # the shared settings (the cell is set per run)
    text: str  # the training text
    text_label: str


def controls(page: LessonPage) -> Setup | None:
    """The settings every tab shares; None (a bad value, with its message shown) stops the page."""
    cols = st.columns(4)
    page.widget(
        cols[0].number_input,
        "hidden",
        "Hidden units H",
        1,
        MAX_HIDDEN,
        default=128,
        step=16,
        help="Width of the state h (and of the LSTM's cell c).",
    )
    page.widget(
        cols[0].number_input,
        "bptt",
        "BPTT length T",
        2,
        MAX_BPTT,
        default=64,
        step=8,
        help="Characters per chunk: how far back the gradient is followed (the state goes further).",
    )
    page.widget(
        cols[1].number_input,
        "lr",
        "Learning rate (Adam)",
        default=3e-3,
        step=1e-3,
        format="%.4f",
    )
    page.widget(
        cols[1].number_input,
        "clip",
        "Clip the gradient norm at",
        default=1.0,
        step=0.5,
        help="τ in g ← g·min(1, τ/‖g‖); 0 = no clipping.",
    )
    page.widget(
        cols[2].slider,
        "forget_bias",
        "LSTM forget-gate bias at the start",
        -2.0,
        4.0,
        step=0.5,
        default=1.0,
        help="f = σ(bias) before training: 0 gives f ≈ 0.5, 1 gives 0.73 (Jozefowicz et al. 2015).",
    )
    page.widget(cols[2].number_input, "steps", "Training steps", 10, 5000, default=300, step=50)
    page.widget(cols[3].selectbox, "corpus", "Training text", list(CORPORA), default="wiki", format_func=CORPORA.get)
    if page.value("corpus") == "user":
        page.widget(
            st.text_area,
            "user_text",
            "Your text (at least a few hundred characters)",
            default="",
            height=100,
            url=False,
        )
    config = page.config(RNNConfig, "The RNN settings")
    bptt = config.bptt if config is not None else 64
    text = page.compute(
        "text",
        "Reading the training text",
        training_text,
        page.value("corpus", "wiki"),
        page.value("user_text", ""),
        bptt,
    )
    if config is None or text is None:
        return None
    return Setup(config, text[1], text[0])
