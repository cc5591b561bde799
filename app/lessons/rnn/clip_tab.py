"""Tab "Clipping": at a high learning rate, gradient norms and losses with clipping off and on."""

from __future__ import annotations

import numpy as np
import streamlit as st

from app.lessons.rnn import figures
from app.lessons.rnn.data import named_text
from app.page import LessonPage
from models.rnn.cells import CELLS
from models.rnn.model import CellComparison, RNNConfig

TITLE = "Clipping"
DEFAULTS = {"clip_cell": "rnn", "clip_lr": 2.0, "clip_tau": 1.0, "clip_steps": 60}  # the tab's settings at first


def configs(base: RNNConfig, cell: str, lr: float, tau: float) -> dict[str, RNNConfig]:
    shared = {**base.__dict__, "cell": cell, "optimizer": "sgd", "lr": lr, "track_gradients": False, "fast": True}
    return {
        "no clipping": RNNConfig(**{**shared, "clip": 0.0}),
        f"clipped at {tau:g}": RNNConfig(**{**shared, "clip": tau}),
    }


def default_run(corpus: str, base: RNNConfig, cell: str, lr: float, tau: float, steps: int) -> dict:
    """The two runs at these settings, trained `steps` steps: {"curves": {run: {field: list}}, "diverged": ...}.

    Computed once per server at the lesson's defaults (`page.shared`), so the first view has its chart: exactly
    the run that ▶ Start trains at those settings (same seed, same batches)."""
    comparison = CellComparison(named_text(corpus), configs(base, cell, lr, tau), seed=0)
    comparison.train_steps(steps)
    return summary(comparison)


def summary(comparison: CellComparison) -> dict:
    curves = {name: {"losses": t.losses, "grad_norms": t.grad_norms} for name, t in comparison.trainers.items()}
    return {"curves": curves, "diverged": dict(comparison.diverged)}


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
        render=lambda run: draw(page, summary(run.trainer)),
        run="clip",
        label="clipping",
        settings={
            "clip": [cell, lr, tau, page.value("clip_steps")],
            "text": setup.text_label,
            "hidden": setup.config.hidden,
        },
    )
    run = page.run("clip")
    if run is None or not run.history:
        draw_default(page, setup)


def draw_default(page: LessonPage, setup) -> None:
    """Before Start: the run at the lesson's default settings, trained once for the server."""
    d = DEFAULTS
    result = page.compute(
        "clip-default",
        "Training the default run",
        page.shared,
        default_run,
        "wiki",
        RNNConfig(),
        d["clip_cell"],
        d["clip_lr"],
        d["clip_tau"],
        d["clip_steps"],
    )
    if result is None:
        return
    yours = page.value("corpus", "wiki") == "wiki" and setup.config == RNNConfig()
    yours = yours and all(page.value(name, value) == value for name, value in d.items())
    st.caption(
        f"Before ▶ Start: the run at the default settings ({figures.name_of(d['clip_cell'])}, learning rate "
        f"{d['clip_lr']:g}, τ = {d['clip_tau']:g}, {d['clip_steps']} steps on the Wikipedia sample), trained once for "
        "everyone; ▶ Start trains it live"
        + (" (the same numbers)." if yours else ", with your settings, which differ from these.")
    )
    draw(page, result)


def draw(page: LessonPage, result: dict) -> None:
    curves = result["curves"]
    off, on = curves.values()
    if not off["losses"]:
        return
    cols = st.columns(4)
    cols[0].metric("largest ‖g‖, no clipping", f"{max(off['grad_norms']):.3g}")
    cols[1].metric("largest ‖g‖ before clipping", f"{max(on['grad_norms']):.3g}")
    loss_off, loss_on = float(np.mean(off["losses"][-10:])), float(np.mean(on["losses"][-10:]))
    cols[2].metric("loss, no clipping (last 10)", f"{loss_off:.2f}")
    cols[3].metric("loss, clipped (last 10)", f"{loss_on:.2f}")
    for name, step in result["diverged"].items():
        st.warning(f"“{name}” blew up at step {step} (its loss is no longer a number); the other run goes on.")
    norms = {name: c["grad_norms"] for name, c in curves.items()}
    losses = {name: c["losses"] for name, c in curves.items()}
    page.chart(*figures.per_step(norms, "grad_norm", "gradient norm per step, before clipping", log=True), "grad-norms")
    page.chart(*figures.per_step(losses, "loss", "training loss per step"), "clip-losses")
