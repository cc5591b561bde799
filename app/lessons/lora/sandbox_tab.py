"""Tab "Known rank": LoRA at ranks 1..64 and full fine-tuning learn an update whose rank k we chose."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from app.lecture import advanced_controls
from app.lessons.lora import figures
from app.page import LessonPage
from models.lora.sandbox import SandboxConfig, SandboxTrainer

TITLE = "Known rank"
RANK_OPTIONS = [1, 2, 4, 8, 16, 32, 64, 128]


def sandbox_controls(page: LessonPage, ranks=(1, 2, 4, 8, 16, 64), optimizer="adam", lr=1e-2):
    """The sandbox's settings (the α-and-r tab draws its own, starting from other defaults)."""
    c1, c2, c3 = st.columns(3)
    with c1:
        page.widget(st.select_slider, "d", "Layer width d", [16, 32, 64, 128], default=64)
        page.widget(st.slider, "true_rank", "True rank k of the target update", 1, 32, default=4)
    with c2:
        page.widget(st.multiselect, "ranks", "LoRA ranks r", RANK_OPTIONS, default=list(ranks))
        page.widget(st.checkbox, "full", "Also full fine-tuning (d×d numbers)", default=True)
    with c3:
        page.widget(
            st.number_input,
            "n_train",
            "Training samples",
            2,
            8192,
            default=512,
            step=32,
            help="Few samples + noise: large ranks start fitting the noise.",
        )
        page.widget(
            st.slider,
            "noise",
            "Noise on the targets (× signal std)",
            0.0,
            2.0,
            default=0.0,
            step=0.1,
        )
    with advanced_controls():
        a1, a2, a3 = st.columns(3)
        with a1:
            page.widget(st.number_input, "alpha", "α", 0.0, 1024.0, default=16.0, step=1.0)
        with a2:
            page.widget(
                st.select_slider,
                "lr",
                "Learning rate",
                [1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 0.1, 1.0, 10.0, 1000.0],
                default=lr,
            )
        with a3:
            page.widget(st.checkbox, "rslora", "rsLoRA: scale α/√r instead of α/r", default=False)
            page.widget(st.selectbox, "optimizer", "Optimiser", ["adam", "sgd"], default=optimizer)
            page.widget(st.number_input, "seed", "Seed", 0, 10_000, default=0)
    return page.config(SandboxConfig, "The sandbox settings")


def render(page: LessonPage) -> None:
    st.markdown(
        "A frozen random layer W₀ (d×d) must learn **W₀ + ΔW\\***, where ΔW\\* has rank **k** (singular "
        "values from 1 down to 0.4). Each rank trains on the same samples with the same optimiser (Adam "
        "unless you pick SGD under the advanced settings). The held-out error is "
        "exact: for x ~ N(0, I) it equals ‖ΔW − ΔW\\*‖² / ‖ΔW\\*‖²; no rank-r matrix beats the "
        "**Eckart–Young floor** $\\sum_{i>r}\\sigma_i^2 / \\sum_i \\sigma_i^2$ (grey line, from the SVD of "
        "ΔW\\*)."
    )
    with page.settings_area():
        config = sandbox_controls(page)
        steps = page.widget(st.number_input, "steps", "Steps", 10, 5000, default=200, step=50)
    if config is None:
        return
    page.train(
        lambda: SandboxTrainer(config, device="cpu"),  # tiny matrices: the CPU is fastest
        int(steps),
        device="cpu",
        render=lambda run: draw(page, run),
        label=f"k={config.true_rank} n={config.n_train} noise={config.noise}",
        chunk_seconds=1.0,  # small steps: train more per redraw
    )


def draw(page: LessonPage, run) -> None:
    trainer: SandboxTrainer = run.trainer
    curves = figures.curves_frame(run.history, "heldout")
    if curves.empty:
        return
    page.chart(
        figures.curves_figure(curves, "Held-out error during training", "relative error (log)"),
        curves,
        "sandbox-curves",
    )
    summary = pd.DataFrame(trainer.summary())
    floors = trainer.floors()
    page.chart(figures.rank_figure(summary, floors, trainer.config.true_rank), summary, "sandbox-rank")
    st.markdown(readout(summary, trainer.config))


def readout(summary: pd.DataFrame, config: SandboxConfig) -> str:
    """What the data shows, in words, from the numbers on screen."""
    lora = summary[summary["run"] != "full"].sort_values("rank")
    lines = []
    below = lora[lora["rank"] < config.true_rank]
    above = lora[lora["rank"] >= config.true_rank]
    for row in below.itertuples():
        lines.append(
            f"- r={row.rank}: held-out error **{row.heldout_error:.3f}**, its floor is "
            f"{row.eckart_young_floor:.3f}: no rank-{row.rank} matrix can do better."
        )
    if len(above):
        lines.append(
            f"- r ≥ k={config.true_rank}: held-out error between **{above['heldout_error'].min():.2g}** and "
            f"**{above['heldout_error'].max():.2g}**, with {above['trained_parameters'].min():,} to "
            f"{above['trained_parameters'].max():,} trained numbers."
        )
    if len(lora) >= 3 and config.noise > 0:
        best = lora.loc[lora["heldout_error"].idxmin()]
        lines.append(
            f"- With noise the best held-out error is at **r={int(best['rank'])}** "
            f"({best['heldout_error']:.3f}); the largest rank reaches "
            f"{lora['heldout_error'].iloc[-1]:.3f} while its training error falls to "
            f"{lora['train_error'].iloc[-1]:.3f}: it fits the noise."
        )
    return "**What the data shows**\n\n" + "\n".join(lines)
