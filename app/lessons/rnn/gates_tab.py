"""Tab "Inside an LSTM": every gate over a sentence as a heatmap; which units forget at a full stop."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from app.lessons.rnn import figures
from app.page import LessonPage
from models.rnn.experiments import gate_trace
from models.rnn.model import RNNConfig, RNNTrainer

TITLE = "Inside an LSTM"
DEFAULT_TEXT = "The river rose in spring. The town moved to the hill. It stayed there."


def untrained(text: str, config: RNNConfig) -> RNNTrainer:
    return RNNTrainer(text, RNNConfig(**{**config.__dict__, "cell": "lstm"}), seed=0)


def full_stop_units(kept: str, forget: np.ndarray, top: int = 5) -> pd.DataFrame:
    """Units whose forget gate drops most on reading '.', against their mean elsewhere."""
    at_stop = np.array([ch == "." for ch in kept])
    if not at_stop.any() or at_stop.all():
        raise ValueError("Type a sentence with a full stop and other characters to see who forgets there.")
    drop = forget[~at_stop].mean(0) - forget[at_stop].mean(0)  # (H,)
    order = np.argsort(-drop)[:top]
    return pd.DataFrame(
        {
            "unit": order,
            "f at '.'": forget[at_stop].mean(0)[order],
            "f elsewhere": forget[~at_stop].mean(0)[order],
            "drop": drop[order],
        }
    )


def render(page: LessonPage) -> None:
    setup = page.data
    with page.settings_area():
        page.widget(st.text_input, "gate_text", "Sentence", default=DEFAULT_TEXT, max_chars=300)
        page.widget(
            st.selectbox,
            "gate",
            "Gate",
            ["forget f", "input i", "output o", "candidate g", "cell c"],
            default="forget f",
        )
    run = page.run()
    if run is not None and run.history:
        trainer = run.trainer.trainers["lstm"]
        st.caption(f"The LSTM of the run in “Train live”, after {trainer.steps} steps.")
    else:
        trainer = page.compute("untrained-lstm", "Building the LSTM", untrained, setup.text, setup.config)
        if trainer is None:
            return
        st.caption(
            "An untrained LSTM (seed 0): its gates sit near σ(bias), with no pattern yet. Train it in “Train live” "
            "(▶ Start) and come back: units that reset at a full stop appear."
        )
    traced = page.compute(
        "gates", "Running the sentence", gate_trace, trainer.model, trainer.stoi, page.value("gate_text", DEFAULT_TEXT)
    )
    if traced is None:
        return
    kept, gates = traced
    gate = page.value("gate", "forget f")
    st.metric(f"mean {gate} over the sentence", f"{gates[gate].mean():.2f}")
    page.chart(figures.gate_heatmap(kept, gates[gate], gate), pd.DataFrame(gates[gate]), "gates")
    table = page.compute(
        "full-stop", "Finding the units that forget at a full stop", full_stop_units, kept, gates["forget f"]
    )
    if table is not None:
        st.markdown("**Units whose forget gate drops most when reading a full stop** (f near 0 erases the cell):")
        page.table(
            table.style.format({"f at '.'": "{:.2f}", "f elsewhere": "{:.2f}", "drop": "{:+.2f}"}), hide_index=True
        )
