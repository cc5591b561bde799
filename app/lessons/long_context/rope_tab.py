"""Tab "RoPE scaling": each pair's wavelength under PI, NTK and YaRN at once; then a RoPE model trained at L and
read at s·L with each scaling, no retraining."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from app.lessons.long_context import figures
from app.lessons.long_context.data import TEXT_LABEL, training_text
from app.page import LessonPage
from models.long_context.extrapolation import LengthTrainer, PositionConfig, check_eval_length
from models.long_context.rope_scaling import scaling_table

TITLE = "RoPE scaling"


def rope_config(config: PositionConfig) -> PositionConfig:
    return PositionConfig(**{**config.__dict__, "positional": "rope"})


def eval_length(train_len: int, factor: float) -> int:
    if not factor >= 1:
        raise ValueError(f"A scaling factor stretches the context: it must be at least 1 (got {factor:g}).")
    return check_eval_length(int(round(factor * train_len)))


def scaled_losses(trainer: LengthTrainer, factor: float) -> dict[str, np.ndarray]:
    """Held-out loss by position at s·L for each scaling of the trained RoPE model."""
    L = trainer.config.train_len
    table = scaling_table(trainer.config.head_dim, trainer.config.rope_base, L, factor)
    length = eval_length(L, factor)
    return {name: trainer.loss_by_position(length, 8, scaling) for name, scaling in table.items()}


def summary(curves: dict[str, np.ndarray], train_len: int) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {"scaling": name, "loss within L": float(c[:train_len].mean()), "loss past L": float(c[train_len:].mean())}
            for name, c in curves.items()
        ]
    )


def render(page: LessonPage) -> None:
    config = page.data
    with page.settings_area():
        cols = st.columns(2)
        page.widget(cols[0].number_input, "factor", "Scaling factor s", 0.0, 128.0, default=4.0, step=1.0,
                    help="Read the model at s·L; PI divides every θᵢ by s, YaRN only the slow ones.")  # fmt: skip
        page.widget(cols[1].number_input, "steps", "Training steps", 10, 5000, default=300, step=50)
    factor = float(page.value("factor", 4.0))
    L, head_dim = config.train_len, config.head_dim
    if page.compute("rope-length", "The scaling factor", eval_length, L, factor) is None:
        return
    made = page.compute("rope-figure", "RoPE's frequencies", page.shared_figure, figures.rope_frequencies, head_dim,
                        config.rope_base, L, factor)  # fmt: skip
    if made is None:
        return
    fig, frame = made
    cols = st.columns(3)
    cols[0].metric("Pairs that meet unseen angles at s·L (no scaling)", figures.unseen_pairs(frame))
    cols[1].metric(
        "Pairs that turn fully within L",
        int((frame[frame["scaling"] == "none (extrapolate)"]["turns within L"] >= 1).sum()),
    )
    cols[2].metric("YaRN's attention scale", f"{frame[frame['scaling'] == 'YaRN']['attention scale'].iloc[0]:.3f}")
    page.chart(fig, frame, "rope-frequencies")
    st.caption(
        f"Head dimension {head_dim} ({head_dim // 2} pairs), base {config.rope_base:g}. A pair whose wavelength is "
        f"below L = {L} has turned through every angle in training: reading further only repeats them. A pair above "
        "L meets angles it never saw once positions pass L: the extrapolation problem. Linear (PI) lifts every "
        "wavelength by s (neighbours blur), NTK raises the base (slow pairs stretched most), YaRN stretches only "
        "the pairs that turn less than once within L and leaves the fast ones (more than 32 turns) alone."
    )
    st.subheader(f"The scalings on a RoPE model trained at L = {L}")
    page.train(
        lambda: LengthTrainer(training_text(), rope_config(config), seed=0, device=page.device),
        total_steps=int(page.value("steps", 300)),
        render=lambda run: draw(page, run, factor),
        run="rope",
        label="RoPE model",
    )


def draw(page: LessonPage, run, factor: float) -> None:
    trainer = run.trainer
    L = trainer.config.train_len
    curves = page.compute("rope-scaled", "Reading the model with each scaling", scaled_losses, trainer, factor)
    if curves is None:
        return
    table = summary(curves, L)
    none = table.set_index("scaling").loc["none (extrapolate)"]
    cols = st.columns(len(table))
    for col, (_, row) in zip(cols, table.iterrows()):
        past = row["loss past L"]
        col.metric(f"{row['scaling']}: loss past L", f"{past:.3f}", delta=f"{past - none['loss past L']:+.3f}",
                   delta_color="inverse")  # fmt: skip
    st.dataframe(table.style.format({"loss within L": "{:.3f}", "loss past L": "{:.3f}"}), hide_index=True)
    title = f"RoPE model after {trainer.steps} steps on the {TEXT_LABEL}, read at {len(next(iter(curves.values())))}"
    page.chart(*figures.loss_by_position(curves, L, title), "rope-by-position")
    st.caption(
        "Held-out text, 8 windows, the same for every scaling; no fine-tuning after the scaling (papers fine-tune "
        "briefly: PI and YaRN need far less of it than extrapolation). The NTK curve uses the dynamic form at "
        "this length (transformers' 'dynamic' with factor 1)."
    )
