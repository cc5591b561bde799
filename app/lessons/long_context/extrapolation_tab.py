"""Tab "Train short, test long": one tiny transformer per position scheme, trained at L, read at up to 8·L."""

from __future__ import annotations

import numpy as np
import streamlit as st

from app.lessons.long_context import figures
from app.lessons.long_context.data import TEXT_LABEL, training_text
from app.page import LessonPage
from models.long_context.extrapolation import NAMES, POSITIONAL, SchemeComparison, check_eval_length

TITLE = "Train short, test long"
MULTIPLES = (1, 2, 4, 8)


def render(page: LessonPage) -> None:
    config = page.data
    with page.settings_area():
        cols = st.columns(2)
        page.widget(cols[0].number_input, "steps", "Training steps", 10, 5000, default=300, step=50)
        page.widget(cols[1].number_input, "eval_len", "Read a long input of (characters)", 8, None, default=256,
                    step=64, help="Loss by position along one input this long (at most 4,096).")  # fmt: skip
    eval_len = page.compute("eval-len", "The evaluation length", check_eval_length, int(page.value("eval_len", 256)))
    if eval_len is None:
        return
    L = config.train_len
    st.caption(
        f"Five character-level transformers ({config.n_layers} layers, width {config.d_model}, {config.n_heads} "
        f"heads) from one seed on the {TEXT_LABEL}, trained on windows of L = {L} characters, then read on held-out "
        f"text at {', '.join(str(m * L) for m in MULTIPLES)} characters. Only the position scheme differs. The "
        "learned table has L rows: past it, the last row is reused."
    )
    page.train(
        lambda: SchemeComparison(training_text(), config, POSITIONAL, seed=0, device=page.device),
        total_steps=int(page.value("steps", 300)),
        render=lambda run: draw(page, run, eval_len),
    )


def evaluate(comparison: SchemeComparison, eval_len: int):
    L = next(iter(comparison.trainers.values())).config.train_len
    table = comparison.loss_table([m * L for m in MULTIPLES])
    curves = {s: t.loss_by_position(eval_len) for s, t in comparison.trainers.items()}
    return table, curves


def draw(page: LessonPage, run, eval_len: int) -> None:
    comparison = run.trainer
    L = next(iter(comparison.trainers.values())).config.train_len
    done = page.compute("extrapolation", "Reading the models at longer lengths", evaluate, comparison, eval_len)
    if done is None:
        return
    table, curves = done
    cols = st.columns(len(table))
    for col, (scheme, by) in zip(cols, table.items()):
        rise = by[MULTIPLES[-1] * L] - by[L]
        col.metric(f"{NAMES[scheme]}: loss at {MULTIPLES[-1]}·L − at L", f"{rise:+.3f}")
    page.chart(*figures.loss_by_length(table, L), "loss-by-length")
    title = f"Loss by position along {eval_len} held-out characters, after {comparison.steps} steps"
    page.chart(*figures.loss_by_position(curves, L, title), "extrapolation-by-position")
    late = {NAMES[s]: float(np.mean(c[L:])) if len(c) > L else float("nan") for s, c in curves.items()}
    st.caption(
        "Whole windows are scored from their first character, so early positions (little context) weigh on every "
        "length alike. Past L, mean loss per position: " + ", ".join(f"{n} {v:.3f}" for n, v in late.items()) + "."
    )
