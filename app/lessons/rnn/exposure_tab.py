"""Tab "Exposure bias": teacher forcing against scheduled sampling; loss when the model reads its own output."""

from __future__ import annotations

import streamlit as st

from app.lessons.rnn import figures
from app.page import LessonPage
from models.rnn.model import SCHEDULES, CellComparison, RNNConfig, teacher_probability

TITLE = "Exposure bias"
OWN_SHARES = (0.0, 0.25, 0.5, 0.75, 1.0)


def configs(base: RNNConfig, schedule: str, k: float, floor: float) -> dict[str, RNNConfig]:
    shared = {**base.__dict__, "cell": "lstm", "track_gradients": False, "fast": True}
    return {
        "teacher forcing": RNNConfig(**shared),
        "scheduled sampling": RNNConfig(**{**shared, "schedule": schedule, "schedule_k": k, "min_teacher": floor}),
    }


def render(page: LessonPage) -> None:
    setup = page.data
    with page.settings_area():
        cols = st.columns(4)
        options = [s for s in SCHEDULES if s != "none"]
        page.widget(cols[0].selectbox, "schedule", "Schedule", options, default="inverse_sigmoid")
        page.widget(cols[1].number_input, "schedule_k", "Speed k (steps)", default=100.0, step=50.0)
        page.widget(cols[2].slider, "min_teacher", "Floor of ε", 0.0, 1.0, step=0.05, default=0.5)
        page.widget(cols[3].number_input, "exposure_steps", "Steps", 10, 5000, default=300, step=50)
    schedule, k, floor = (
        page.value("schedule", "inverse_sigmoid"),
        page.value("schedule_k", 100.0),
        page.value("min_teacher", 0.5),
    )
    made = page.compute("exposure-configs", "The schedule", configs, setup.config, schedule, k, floor)
    if made is None:
        return
    steps = int(page.value("exposure_steps", 300))
    xs = list(range(0, steps + 1, max(1, steps // 100)))
    curves = {s: [teacher_probability(i, s, k, floor) for i in xs] for s in SCHEDULES if s != "none"}
    page.chart(figures.schedule_figure(curves, xs), None, "schedules")
    st.caption(
        "Training feeds the true previous character (teacher forcing); generation feeds the model's own. Scheduled "
        f"sampling (Bengio et al. 2015) feeds the truth with probability ε, decaying here by the “{schedule}” "
        "schedule to its floor. Two LSTMs from one seed: one teacher-forced, one with the schedule. Below, after "
        "training, each one's held-out loss when a share of its inputs are its own samples: 0 is the usual "
        "teacher-forced loss, 1 is free running."
    )
    page.train(
        lambda: CellComparison(setup.text, made, seed=0, device=page.device),
        total_steps=steps,
        render=lambda run: draw(page, run),
        run="exposure",
        label="exposure bias",
        settings={"exposure": [schedule, k, floor, steps], "text": setup.text_label, "hidden": setup.config.hidden},
    )


def draw(page: LessonPage, run) -> None:
    trainers = run.trainer.trainers
    losses = {name: {p: t.heldout_loss(teacher=1 - p) for p in OWN_SHARES} for name, t in trainers.items()}
    fig, frame = figures.exposure_figure(losses)
    tf, ss = losses["teacher forcing"], losses["scheduled sampling"]
    cols = st.columns(2)
    cols[0].metric("teacher-forced loss: TF → SS", f"{tf[0.0]:.3f} → {ss[0.0]:.3f}")
    cols[1].metric("loss at half own samples: TF → SS", f"{tf[0.5]:.3f} → {ss[0.5]:.3f}")
    page.chart(fig, frame, "exposure")
    st.markdown("**Free-running samples** (prompt “The ”, temperature 0.8):")
    for name, t in trainers.items():
        st.text(f"{name:>18} · step {t.steps}: {t.sample('The ', 120, 0.8, seed=0)!r}")
