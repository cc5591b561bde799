"""Tab "Truncated BPTT": the chunk length T against loss and speed, same characters seen."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from app.lessons.rnn import figures
from app.lessons.rnn.data import named_text
from app.page import LessonPage
from models.rnn.cells import CELLS
from models.rnn.experiments import truncated_profile
from models.rnn.model import CellComparison, RNNConfig

TITLE = "Truncated BPTT"
LENGTHS = (4, 16, 64)


def configs(base: RNNConfig, cell: str, lengths) -> dict[str, RNNConfig]:
    shared = {**base.__dict__, "cell": cell, "track_gradients": False, "fast": True}
    return {f"T = {t}": RNNConfig(**{**shared, "bptt": t}) for t in lengths}


def render(page: LessonPage) -> None:
    setup = page.data
    with page.settings_area():
        cols = st.columns(2)
        page.widget(cols[0].selectbox, "bptt_cell", "Cell", list(CELLS), default="lstm", format_func=figures.name_of)
        page.widget(
            cols[1].number_input, "bptt_chars", "Characters per run (thousands)", 10, 5000, default=200, step=50
        )
    cell = page.value("bptt_cell", "lstm")
    made = page.compute("bptt-configs", "The BPTT settings", configs, setup.config, cell, LENGTHS)
    if made is None:
        return
    st.caption(
        f"Three {figures.name_of(cell)}s from one seed on the {setup.text_label}, chunks of {', '.join(map(str, LENGTHS))} "
        "characters. The state always carries across chunks; the gradient stops at the chunk's start, so a "
        "dependency longer than T cannot be learned, and the memory kept for backpropagation grows with T. Each run "
        "reads the same number of characters, so a short T makes more (and noisier) updates, and pays the cost of a "
        "step (optimizer, output layer) more often: it is not cheaper per character. Torch's fused kernel, so speed "
        "is the cell's, not Python's."
    )
    budget = int(page.value("bptt_chars", 200)) * 1000
    page.train(
        lambda: SameCharacters(CellComparison(setup.text, made, seed=0, device=page.device), budget),
        total_steps=budget // (setup.config.batch_size * max(LENGTHS)),
        render=lambda run: draw(page, run),
        run="bptt",
        label="truncated BPTT",
        settings={"bptt": [cell, budget], "text": setup.text_label, "hidden": setup.config.hidden},
    )
    run = page.run("bptt")
    if run is None or not run.history:
        draw_untrained(page, RNNConfig(**{**setup.config.__dict__, "cell": cell}))


def untrained_reach(corpus: str, config: RNNConfig) -> dict[str, np.ndarray]:
    """{"T = t": (t,)} ‖∂L_last/∂h‖ of the untrained model read in chunks of t; further back it is exactly 0 (no point
    on a log axis), so each line stops there."""
    profiles = truncated_profile(named_text(corpus), config, LENGTHS)
    return {f"T = {t}": values[:t] for t, values in profiles.items()}


def draw_untrained(page: LessonPage, config: RNNConfig) -> None:
    """Before Start: how far back the gradient of the last character's loss reaches, per chunk length (untrained)."""
    corpus = page.value("corpus", "wiki")
    corpus = corpus if corpus != "user" else "wiki"  # the shared chart is never keyed by a student's text
    reach = page.compute(
        "bptt-reach", "Measuring the gradient per chunk length", page.shared, untrained_reach, corpus, config
    )
    if reach is None:
        return
    window = max(LENGTHS)
    title = f"Before training: the gradient of the last character's loss, {window} characters read in chunks of T"
    fig, frame = figures.gradient_profile(reach, title)
    page.chart(fig, frame, "bptt-reach")
    st.caption(
        f"The untrained {figures.name_of(config.cell)} (seed 0) reads the first {window} characters of each stream in "
        "chunks of T, the state passed on and detached. Forward, nothing changes; backward, ‖∂L_last/∂h‖ follows full "
        "BPTT inside the last chunk and is exactly 0 before it (the line ends at T − 1)"
        + (" (drawn on the Wikipedia sample)." if page.value("corpus", "wiki") == "user" else ".")
        + " ▶ Start trains the three runs."
    )


class SameCharacters:
    """Steps each trainer until it has read as many characters as the one with the longest chunks."""

    def __init__(self, comparison: CellComparison, budget: int):
        self.comparison, self.trainers, self.budget = comparison, comparison.trainers, budget

    @property
    def done(self) -> bool:
        return min(t.chars_seen for t in self.trainers.values()) >= self.budget

    def train_steps(self, n: int) -> dict[str, float]:
        longest = max(t.config.bptt for t in self.trainers.values())
        metrics = {}
        for name, t in self.trainers.items():
            out = t.train_steps(n * longest // t.config.bptt)
            metrics |= {f"{name}.{k}": v for k, v in out.items()} | {f"{name}.chars": float(t.chars_seen)}
        return metrics


def draw(page: LessonPage, run) -> None:
    trainers = run.trainer.trainers
    rows = [
        {
            "chunk T": t.config.bptt,
            "characters read": t.chars_seen,
            "loss (last 10 steps)": float(np.mean(t.losses[-10:])) if t.losses else float("nan"),
            "held-out loss": t.heldout_loss(),
            "characters per second": t.chars_seen / max(t.seconds, 1e-9),
        }
        for t in trainers.values()
    ]
    table = pd.DataFrame(rows)
    page.table(
        table.style.format(
            {
                "characters read": "{:,}",
                "loss (last 10 steps)": "{:.3f}",
                "held-out loss": "{:.3f}",
                "characters per second": "{:,.0f}",
            }
        ),  # fmt: skip
        hide_index=True,
    )
    fig = go.Figure()
    for i, (name, t) in enumerate(trainers.items()):
        chars = np.arange(1, len(t.losses) + 1) * t.config.batch_size * t.config.bptt
        fig.add_scatter(x=chars, y=t.losses, mode="lines", name=name, line_color=figures.color(i))
    fig.update_layout(title="Training loss against characters read", xaxis_title="characters", yaxis_title="loss",
                      height=340, legend=dict(orientation="h", y=-0.3))  # fmt: skip
    page.chart(fig, table, "bptt")
