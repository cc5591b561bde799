"""Tab "Needle in a haystack": one digit among random letters, asked for at the end; found by length and depth."""

from __future__ import annotations

import streamlit as st

from app.lessons.long_context import figures
from app.page import LessonPage
from models.long_context.extrapolation import NAMES, POSITIONAL
from models.long_context.needle import NeedleComparison

TITLE = "Needle in a haystack"
MULTIPLES = (1, 2, 4, 8)
DEPTHS = (0, 25, 50, 75, 100)  # % of the haystack


def grids(comparison: NeedleComparison, lengths) -> dict:
    return {s: t.accuracy_grid(lengths, DEPTHS) for s, t in comparison.trainers.items()}


def render(page: LessonPage) -> None:
    config = page.data
    with page.settings_area():
        cols = st.columns(2)
        page.widget(cols[0].number_input, "steps", "Training steps", 10, 5000, default=300, step=50)
        page.widget(cols[1].multiselect, "schemes", "Position schemes", list(POSITIONAL), default=list(POSITIONAL),
                    format_func=NAMES.get)  # fmt: skip
    schemes = [s for s in POSITIONAL if s in (page.value("schemes") or [])]
    if not schemes:
        st.info("Pick at least one position scheme.")
        return
    L = config.train_len
    st.caption(
        f"Sequences of random letters a–p with one digit (the needle) at a random place and a final “?” whose "
        f"answer is the digit; trained at L = {L}, then 64 fresh needles per cell at each depth (0 % = first "
        f"token, 100 % = just before the question) and length up to {MULTIPLES[-1]}·L. Nothing but its content "
        "marks the needle: a model that attends by content finds it anywhere."
    )
    page.train(
        lambda: NeedleComparison(config, schemes, seed=0, device=page.device),
        total_steps=int(page.value("steps", 300)),
        render=lambda run: draw(page, run, L),
        run="needle",
        label="needle",
    )


def draw(page: LessonPage, run, L: int) -> None:
    comparison = run.trainer
    lengths = [m * L for m in MULTIPLES]
    found = page.compute("needle", "Searching for the needles", grids, comparison, lengths)
    if found is None:
        return
    cols = st.columns(len(found))
    for col, (scheme, grid) in zip(cols, found.items()):
        col.metric(f"{NAMES[scheme]}: found at L", f"{grid[0].mean():.0%}")
        col.metric(f"{NAMES[scheme]}: at {MULTIPLES[-1]}·L, depth 0 %", f"{grid[-1, 0]:.0%}")
        col.metric(f"{NAMES[scheme]}: at {MULTIPLES[-1]}·L, depth 100 %", f"{grid[-1, -1]:.0%}")
    page.chart(*figures.needle_heatmaps(found, lengths, DEPTHS), "needle")
    steps = min(t.steps for t in comparison.trainers.values())
    st.caption(
        f"After {steps} steps. A real model's “lost in the middle” (Liu et al. 2023) is a U: facts at the start and "
        "at the end are found, the middle is not; a tiny model trained on this one task shows what its position "
        "scheme does to distance instead."
    )
