"""Tab "α and r": at a fixed α a higher rank shrinks the update (α/r); rsLoRA's α/√r does not.

The tab's default settings (the rsLoRA preset's) are trained once per server and drawn at once; other settings
train when the button is pressed (16 runs of the sandbox, a few seconds).
"""

from __future__ import annotations

import dataclasses

import pandas as pd
import streamlit as st

from app.lessons.lora import figures
from app.lessons.lora.sandbox_tab import sandbox_controls
from app.page import LessonPage
from models.lora.sandbox import SandboxConfig, train_to

TITLE = "α and r"
SCALES = {"LoRA: scale α/r": False, "rsLoRA: scale α/√r": True}
RANKS, OPTIMIZER, LR, STEPS = (1, 4, 16, 64), "sgd", 3e-2, 200  # the tab's defaults: the rsLoRA preset's
PREVIEW = SandboxConfig(ranks=RANKS, optimizer=OPTIMIZER, lr=LR, full=False)


def alpha_rank_curves(config: SandboxConfig, steps: int, every: int = 5) -> dict[str, pd.DataFrame]:
    """The sandbox trained twice, with α/r and with α/√r: held-out error per rank every `every` steps."""
    curves = {}
    for label, rslora in SCALES.items():
        _, history = train_to(dataclasses.replace(config, rslora=rslora, full=False), steps, every)
        curves[label] = figures.curves_frame(history, "heldout")
    return curves


def comparison(config: SandboxConfig, steps: int) -> tuple:
    """(figure, long frame, final errors: one row per rank, one column per scale) after `steps` steps."""
    curves = alpha_rank_curves(config, steps)
    both = pd.concat([frame.assign(scale=label) for label, frame in curves.items()])
    final = pd.DataFrame({label: frame.groupby("run")["value"].last() for label, frame in curves.items()})
    final = final.reindex(sorted(final.index, key=figures._run_order))
    return figures.alpha_rank_figure(curves), both, final


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
        config = sandbox_controls(page, ranks=RANKS, optimizer=OPTIMIZER, lr=LR)
        steps = page.widget(st.slider, "steps", "Steps per run", 20, 400, default=STEPS, step=20)
    if config is None:
        return
    config = dataclasses.replace(config, rslora=False, full=False)  # both scales are trained; no full run
    if config == PREVIEW and steps == STEPS:  # trained once per server: drawn before any click
        fig, both, final = page.shared_figure(comparison, config, steps)
        st.caption(f"These settings after {steps} steps, trained once on this server (the seed is fixed).")
    else:
        label = f"Train both ({len(config.ranks)} ranks × 2, a few seconds)"
        if st.button(label, key=page.state_key("alpha-go")):
            with st.spinner("Training every rank with α/r, then with α/√r…"):
                page.compute("alpha-curves", "Training the comparison", comparison, config, steps)
            if not page.stale("alpha-curves"):
                page.keep("alpha-settings", (config, steps))
        kept = page.result("alpha-curves")
        if kept is None:
            st.caption(f"α = {config.alpha:g}, learning rate {config.lr:g}. Press the button to train.")
            return
        if page.result("alpha-settings") != (config, steps):
            st.caption("⚠ Below: the last comparison trained, not the current settings. Press the button to train.")
        fig, both, final = kept
        config, steps = page.result("alpha-settings", (config, steps))
    page.chart(fig, both, "alpha-rank")
    st.markdown(f"**Held-out error after {int(both['step'].max())} steps**")
    page.table(final, width="content")
    st.markdown(readout(final, config, steps))


def readout(final: pd.DataFrame, config: SandboxConfig, steps: int) -> str:
    fit = [r for r in final.index if int(r[2:]) >= config.true_rank]
    if len(fit) < 2:
        return f"Pick at least two ranks ≥ k = {config.true_rank} to compare how fast they learn."
    low, high = fit[0], fit[-1]
    plain, rs = final.columns
    fastest = final[rs].idxmin()
    return (
        f"After {steps} steps ({config.optimizer}, learning rate {config.lr:g}, α = {config.alpha:g}): with "
        f"**α/r**, {high} ends at **{final.loc[high, plain]:.3g}** against {low}'s "
        f"**{final.loc[low, plain]:.3g}** ({final.loc[high, plain] / final.loc[low, plain]:.1f}× its error); "
        f"with **α/√r**, {high} ends at **{final.loc[high, rs]:.3g}** against {low}'s "
        f"**{final.loc[low, rs]:.3g}**, and the fastest rank is **{fastest}** "
        f"(**{final.loc[fastest, rs]:.3g}**). With SGD the α/r scale slows high ranks down (their gradient and "
        "their step are both scaled by α/r); Adam normalises each step, which hides most of the effect."
    )
