"""Tab "Long-range memory": recall a symbol after D steps; accuracy against D per cell, after the same steps."""

from __future__ import annotations

import streamlit as st

from app.lessons.rnn import figures
from app.page import LessonPage
from models.rnn.experiments import RecallTask

TITLE = "Long-range memory"
DISTANCES = (2, 5, 10, 20, 40)
SYMBOLS = 4


def recall_table(run) -> dict:
    """{(cell, D): accuracy} of the run now, or of untrained models (chance level) before the first step."""
    return run.trainer.accuracy() if run is not None else RecallTask(DISTANCES, symbols=SYMBOLS).accuracy()


def render(page: LessonPage) -> None:
    setup = page.data
    st.caption(
        f"Each sequence: one of {SYMBOLS} symbols, then D − 1 random distractors, then a question mark; the model "
        "must answer the first symbol. One small model (32 units, forget bias as set above) per cell and distance, "
        "each trained the same steps on fresh random sequences (Adam 0.01, clipped at 1, seed 0); accuracy on 512 "
        "held-out sequences. To answer, the gradient must carry the symbol's effect across all D steps."
    )
    with page.settings_area():
        page.widget(st.number_input, "memory_steps", "Training steps", 10, 2000, default=100, step=50)
    page.train(
        lambda: RecallTask(DISTANCES, symbols=SYMBOLS, forget_bias=setup.config.forget_bias, seed=0),
        total_steps=int(page.value("memory_steps", 100)),
        render=lambda run: draw(page, run),
        run="memory",
        label="long-range recall",
        settings={"memory_steps": page.value("memory_steps"), "forget_bias": setup.config.forget_bias},
    )
    if page.run("memory") is None:
        draw(page, None)


def draw(page: LessonPage, run) -> None:
    accuracy = recall_table(run)
    steps = run.trainer.steps if run is not None else 0
    at_ten = {cell: accuracy[(cell, 10)] for cell in ("rnn", "lstm", "gru")}
    cols = st.columns(3)
    for col, (cell, acc) in zip(cols, at_ten.items()):
        col.metric(f"{figures.name_of(cell)}: recall at D = 10", f"{acc:.0%}")
    page.chart(*figures.recall_figure(accuracy, SYMBOLS, steps), name="recall")
    if steps == 0:
        st.caption("Untrained: every cell is at chance. Press ▶ Start.")
