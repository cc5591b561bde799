"""Tab "α and r": at a fixed α a higher rank shrinks the update (α/r); rsLoRA's α/√r does not."""

from __future__ import annotations

import dataclasses

import pandas as pd
import streamlit as st

from app.lessons.lora import figures
from app.lessons.lora.sandbox_tab import sandbox_controls
from app.page import LessonPage
from models.lora.sandbox import SandboxConfig, SandboxTrainer

TITLE = "α and r"
SCALES = {"LoRA: scale α/r": False, "rsLoRA: scale α/√r": True}


def alpha_rank_curves(config: SandboxConfig, steps: int, every: int = 5) -> dict[str, pd.DataFrame]:
    """The sandbox trained twice, with α/r and with α/√r: held-out error per rank every `every` steps."""
    curves = {}
    for label, rslora in SCALES.items():
        trainer = SandboxTrainer(dataclasses.replace(config, rslora=rslora, full=False))
        history = []
        for _ in range(0, steps, every):
            history.append({"step": trainer.step + every, **trainer.train_steps(every)})
        curves[label] = figures.curves_frame(history, "heldout")
    return curves


def render(page: LessonPage) -> None:
    st.markdown(
        "LoRA multiplies B·A by **α/r**, so at a **fixed α** a higher rank's update is scaled down, and with "
        "plain gradient descent it learns slower: people then retune α or the learning rate for each r. "
        "**rsLoRA** (Kalajdzievski 2023) scales by **α/√r** instead, which keeps the learning speed stable "
        "across ranks. Both runs below train the layer of the *Known rank* tab (its settings here are this "
        "tab's own); they start with plain SGD, where the effect is clearest: under Adam, which normalises "
        "each step, it nearly disappears."
    )
    with page.settings_area():
        config = sandbox_controls(page, ranks=(1, 4, 16, 64), optimizer="sgd", lr=3e-2)
        steps = page.widget(st.slider, "steps", "Steps per run", 20, 400, default=200, step=20)
    if config is None:
        return
    if st.button(f"Train both ({len(config.ranks)} ranks × 2, a few seconds)", key=page.state_key("alpha-go")):
        with st.spinner("Training every rank with α/r, then with α/√r…"):
            page.compute("alpha-curves", "Training the comparison", alpha_rank_curves, config, steps)
    curves = page.result("alpha-curves")
    if curves is None:
        st.caption(f"α = {config.alpha:g}, learning rate {config.lr:g}. Press the button to train.")
        return
    both = pd.concat([frame.assign(scale=label) for label, frame in curves.items()])
    page.chart(figures.alpha_rank_figure(curves), both, "alpha-rank")
    final = pd.DataFrame({label: frame.groupby("run")["value"].last() for label, frame in curves.items()})
    final = final.reindex(sorted(final.index, key=figures._run_order))
    st.markdown(f"**Held-out error after {int(both['step'].max())} steps**")
    st.dataframe(final, width="content")
    st.markdown(readout(final, config))


def readout(final: pd.DataFrame, config: SandboxConfig) -> str:
    fit = [r for r in final.index if int(r[2:]) >= config.true_rank]
    if len(fit) < 2:
        return f"Pick at least two ranks ≥ k = {config.true_rank} to compare how fast they learn."
    low, high = fit[0], fit[-1]
    plain, rs = final.columns
    return (
        f"With **α/r**, {high} ends at **{final.loc[high, plain]:.3g}** against {low}'s "
        f"**{final.loc[low, plain]:.3g}**; with **α/√r**, {high} ends at **{final.loc[high, rs]:.3g}** against "
        f"{low}'s **{final.loc[low, rs]:.3g}** ({config.optimizer}, learning rate {config.lr:g}). "
        "With SGD the α/r scale slows high ranks down (their gradient and their step are both scaled by "
        "α/r); Adam normalises each step, which hides most of the effect."
    )
