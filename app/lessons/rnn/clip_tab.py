"""Tab "Clipping": at a high learning rate, gradient norms and losses with clipping off and on."""

from __future__ import annotations

import numpy as np
import streamlit as st

from app.lessons.rnn import figures
from app.page import LessonPage
from models.rnn.cells import CELLS
from models.rnn.model import CellComparison, RNNConfig

TITLE = "Clipping"


def configs(base: RNNConfig, cell: str, lr: float, tau: float) -> dict[str, RNNConfig]:
    shared = {**base.__dict__, "cell": cell, "optimizer": "sgd", "lr": lr, "track_gradients": False, "fast": True}
    return {
        "no clipping": RNNConfig(**{**shared, "clip": 0.0}),
        f"clipped at {tau:g}": RNNConfig(**{**shared, "clip": tau}),
    }


def render(page: LessonPage) -> None:
    setup = page.data
    with page.settings_area():
        cols = st.columns(4)
        page.widget(cols[0].selectbox, "clip_cell", "Cell", list(CELLS), default="rnn", format_func=figures.name_of)
        page.widget(cols[1].number_input, "clip_lr", "SGD learning rate", default=2.0, step=0.5)
        page.widget(cols[2].number_input, "clip_tau", "Clip at τ", default=1.0, step=0.5)
        page.widget(cols[3].number_input, "clip_steps", "Steps", 10, 2000, default=60, step=10)
    cell, lr, tau = page.value("clip_cell", "rnn"), page.value("clip_lr", 2.0), page.value("clip_tau", 1.0)
    made = page.compute("clip-configs", "The clipping settings", configs, setup.config, cell, lr, tau)
    if made is None:
        return
    if not tau > 0:
        st.error("Clip at a τ above 0 (the other run is the one without clipping).")
        return
    st.caption(
        f"Two {figures.name_of(cell)}s from one seed, plain SGD at learning rate {lr:g} (high on purpose), same "
        f"batches; one applies g ← g·min(1, {tau:g}/‖g‖) before each step (Pascanu et al. 2013)."
    )
    page.train(
        lambda: CellComparison(setup.text, made, seed=0, device=page.device),
        total_steps=int(page.value("clip_steps", 60)),
        render=lambda run: draw(page, run),
        run="clip",
        label="clipping",
        settings={
            "clip": [cell, lr, tau, page.value("clip_steps")],
            "text": setup.text_label,
            "hidden": setup.config.hidden,
        },
    )


def draw(page: LessonPage, run) -> None:
    trainers = run.trainer.trainers
    off, on = trainers.values()
    if not off.losses:
        return
    cols = st.columns(4)
    cols[0].metric("largest ‖g‖, no clipping", f"{max(off.grad_norms):.3g}")
    cols[1].metric("largest ‖g‖ before clipping", f"{max(on.grad_norms):.3g}")
    loss_off, loss_on = float(np.mean(off.losses[-10:])), float(np.mean(on.losses[-10:]))
    cols[2].metric("loss, no clipping (last 10)", f"{loss_off:.2f}")
    cols[3].metric("loss, clipped (last 10)", f"{loss_on:.2f}")
    for name, step in run.trainer.diverged.items():
        st.warning(f"“{name}” blew up at step {step} (its loss is no longer a number); the other run goes on.")
    page.chart(
        *figures.per_step(trainers, "grad_norms", "gradient norm per step, before clipping", log=True), "grad-norms"
    )
    page.chart(*figures.per_step(trainers, "losses", "training loss per step"), "clip-losses")
