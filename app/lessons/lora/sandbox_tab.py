"""Tab "Known rank": LoRA at ranks 1..64 and full fine-tuning learn an update whose rank k we chose.

Before any run the tab draws at once. With the default settings or a preset's: the run those settings make, trained
once per server (under a second of CPU on a quiet core) and shared by every student; the seed is fixed, so a live
run ends on the same numbers. With other settings: step 0 (every run at ΔW = 0, error 1, above each rank's floor).
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from app.lecture import advanced_controls
from app.lessons.lora import figures
from app.page import LessonPage
from models.lora.sandbox import SandboxConfig, SandboxTrainer, train_to

TITLE = "Known rank"
RANK_OPTIONS = [1, 2, 4, 8, 16, 32, 64, 128]
STEPS = 200  # the tab's default number of steps, and the step the presets' claims name
# the presets of this tab (app/lessons/lora/__init__.py): their runs, like the default's, are drawn before any click
PLATEAU = {"true_rank": 4, "noise": 0.0, "n_train": 512}
REGULARISER = {"true_rank": 4, "noise": 1.0, "n_train": 96, "ranks": [1, 2, 4, 8, 16, 32, 64]}
PREVIEWS = (SandboxConfig(), SandboxConfig(**PLATEAU), SandboxConfig(**REGULARISER))


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
        "ΔW\\*). From r = k on the floor is exactly 0, which a log axis cannot draw: there the "
        "error falls as far as training takes it."
    )
    with page.settings_area():
        config = sandbox_controls(page)
        steps = page.widget(st.number_input, "steps", "Steps", 10, 5000, default=STEPS, step=50)
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
    run = page.run()
    if run is None or run.steps_done == 0:
        first_view(page, config, int(steps))


def views(history: list[dict], summary: pd.DataFrame, floors: dict[int, float], true_rank: int) -> tuple:
    """(curves figure, curves frame, rank figure, summary): what the tab draws for a run."""
    curves = figures.curves_frame(history, "heldout")
    return (
        figures.curves_figure(curves, "Held-out error during training", "relative error (log)"),
        curves,
        figures.rank_figure(summary, floors, true_rank),
        summary,
    )


def preview_views(config: SandboxConfig, steps: int) -> tuple:
    """The run `config` makes, trained to `steps`, drawn (built once per server by page.shared_figure)."""
    trainer, history = train_to(config, steps)
    return views(history, pd.DataFrame(trainer.summary()), trainer.floors(), config.true_rank)


def step0_views(config: SandboxConfig) -> tuple:
    """Step 0 of the run `config` makes: every ΔW is 0 (B = 0), the floors are what each rank can reach."""
    trainer = SandboxTrainer(config)
    summary = pd.DataFrame(trainer.summary())
    return figures.rank_figure(summary, trainer.floors(), config.true_rank), summary


def first_view(page: LessonPage, config: SandboxConfig, steps: int) -> None:
    """A chart before any click: the preset's or default's run (shared), else the student's settings at step 0."""
    if steps == STEPS and config in PREVIEWS:
        curves_fig, curves, rank_fig, summary = page.shared_figure(preview_views, config, steps)
        st.caption(
            f"Not trained by you yet: these settings after {steps} steps, trained once on this server (the seed "
            "is fixed, so ▶ Start reproduces these numbers live, step by step)."
        )
        page.chart(curves_fig, curves, "sandbox-curves")
        page.chart(rank_fig, summary, "sandbox-rank")
        st.markdown(readout(summary, config, steps))
        return
    rank_fig, summary = page.shared_figure(step0_views, config)
    st.caption(
        "Step 0 of these settings: every LoRA run starts at ΔW = 0 (B = 0), so its held-out error is exactly 1; "
        "the grey line is the least error each rank can ever reach. ▶ Start trains them live."
    )
    page.chart(rank_fig, summary, "sandbox-rank")


def draw(page: LessonPage, run) -> None:
    trainer: SandboxTrainer = run.trainer
    if not run.history:
        return
    curves_fig, curves, rank_fig, summary = views(
        run.history, pd.DataFrame(trainer.summary()), trainer.floors(), trainer.config.true_rank
    )
    page.chart(curves_fig, curves, "sandbox-curves")
    page.chart(rank_fig, summary, "sandbox-rank")
    st.markdown(readout(summary, trainer.config, trainer.step))


def readout(summary: pd.DataFrame, config: SandboxConfig, step: int) -> str:
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
            f"**{above['heldout_error'].max():.2g}** (their floor is 0), with "
            f"{above['trained_parameters'].min():,} to {above['trained_parameters'].max():,} trained numbers."
        )
    if len(lora) >= 3 and config.noise > 0:
        best = lora.loc[lora["heldout_error"].idxmin()]
        lines.append(
            f"- With noise the best held-out error is at **r={int(best['rank'])}** "
            f"({best['heldout_error']:.3f}); the largest rank reaches "
            f"{lora['heldout_error'].iloc[-1]:.3f} while its training error falls to "
            f"{lora['train_error'].iloc[-1]:.3f}: it fits the noise."
        )
    return f"**What the data shows** (after {step} steps)\n\n" + "\n".join(lines)
