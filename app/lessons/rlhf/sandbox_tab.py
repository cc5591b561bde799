"""Tab "Sandbox": REINFORCE, PPO at several ε, PPO without clipping and GRPO on tasks with a known reward,
many seeds at once, trained live (models/rlhf/pg_sandbox.py)."""

import numpy as np
import pandas as pd
import streamlit as st

from app.lessons.rlhf import figures
from app.page import LessonPage
from models.rlhf.pg_sandbox import SandboxConfig, SandboxTrainer

TITLE = "Sandbox"
METHOD_LABELS = {
    "reinforce": "REINFORCE (no baseline)",
    "reinforce_baseline": "REINFORCE + baseline",
    "ppo": "PPO (clipped, each ε)",
    "ppo_noclip": "PPO without clipping",
    "grpo": "GRPO (group advantages, ε=0.2)",
}
SETTINGS = [
    "task",
    "methods",
    "clip_eps",
    "lr",
    "n_seeds",
    "update_epochs",
    "batch_size",
    "group_size",
    "noise",
    "iterations",
]


def parse_eps(text: str) -> tuple:
    """'0.1, 0.2' -> (0.1, 0.2); an unreadable entry becomes NaN, which the config rejects with its message."""
    values = []
    for part in str(text).replace(";", ",").split(","):
        if part.strip():
            try:
                values.append(float(part))
            except ValueError:
                values.append(float("nan"))
    return tuple(values) or (float("nan"),)


def controls(page: LessonPage):
    c1, c2, c3, c4 = st.columns([1, 1.6, 1, 1])
    with c1:
        page.widget(
            st.radio,
            "task",
            "Task",
            ["bandit", "sequence"],
            default="bandit",
            horizontal=True,
            help="bandit: 10 arms paying 0…1 plus noise; sequence: match a hidden 4-token target",
        )
        page.widget(st.select_slider, "lr", "Learning rate (Adam)", [0.01, 0.03, 0.1, 0.2, 0.5, 1.0, 2.0], default=0.2)
    with c2:
        page.widget(
            st.multiselect,
            "methods",
            "Runs",
            list(METHOD_LABELS),
            default=list(METHOD_LABELS),
            format_func=METHOD_LABELS.get,
        )
        page.widget(st.text_input, "clip_eps", "PPO's ε values (comma-separated)", default="0.1, 0.2, 0.3")
    with c3:
        page.widget(st.slider, "n_seeds", "Seeds per run", 1, 500, default=100)
        page.widget(st.slider, "update_epochs", "PPO epochs per batch", 1, 10, default=4)
        page.widget(st.number_input, "iterations", "Iterations", 10, 2000, default=100, step=10)
    with c4:
        page.widget(st.select_slider, "batch_size", "Samples per iteration", [4, 8, 16, 32, 64], default=16)
        page.widget(st.slider, "group_size", "GRPO group size", 1, 16, default=4)
        page.widget(st.slider, "noise", "Reward noise (std)", 0.0, 1.0, default=0.5, step=0.1)
    methods = tuple(page.value("methods") or ())
    if not methods:
        st.info("Pick at least one run.")
        return None
    return page.config(
        SandboxConfig,
        "Sandbox settings",
        clip_eps=parse_eps(page.value("clip_eps")),
        methods=methods,
    )


def summary(trainer: SandboxTrainer) -> pd.DataFrame:
    rows = []
    for name in trainer.names:
        rewards = trainer.reward_matrix(name)[-5:].mean(0).numpy()  # (S,) the last 5 iterations
        outside = trainer.outside[name]
        rows.append(
            {
                "run": name,
                "reward (mean of seeds)": round(float(rewards.mean()), 3),
                "spread (std over seeds)": round(float(rewards.std()), 3),
                "seeds stuck on a bad answer": f"{trainer.stuck_fraction(name):.0%}",
                "largest share of ratios outside [1−ε, 1+ε] (one epoch)": f"{max(outside):.1%}" if outside else "—",
            }
        )
    return pd.DataFrame(rows)


def draw(page: LessonPage, run, hist_run: str) -> None:
    trainer = run.trainer
    if not trainer.iteration:
        return
    rewards = {name: trainer.reward_matrix(name).numpy() for name in trainer.names}
    fig, frame = figures.reward_bands(rewards, trainer.task.best_reward)
    page.chart(fig, frame, "sandbox-rewards")
    page.table(summary(trainer), hide_index=True, width="stretch")
    st.caption(
        "Stuck: over the last 5 iterations the seed's reward is more than 0.1 below the best and its policy "
        "has stopped exploring (entropy < 0.05 nats): with no sample of a better answer there is no gradient "
        "towards it."
    )
    series = {
        name: {
            "clip_fraction": trainer.clip_fraction[name],
            "approx_kl": trainer.approx_kl[name],
            "entropy": trainer.entropy[name],
            "outside": trainer.outside[name],
        }
        for name in trainer.names
    }
    fig, frame = figures.diagnostics(series)
    page.chart(fig, frame, "sandbox-diagnostics")
    if trainer.peak_ratios.get(hist_run):
        eps = trainer._clip_eps(hist_run)
        iteration = trainer.peak_iteration[hist_run]
        ratios = [np.asarray(r) for r in trainer.peak_ratios[hist_run]]
        fig, frame = figures.ratio_histograms(ratios, eps, f"{hist_run}, iteration {iteration}")
        page.chart(fig, frame, "sandbox-ratios")
        st.caption(
            f"The batch whose ratios left the band most (iteration {iteration}). Epoch 1 sees the policy that "
            f"sampled the batch (every ratio is 1); later epochs drift, and "
            f"{trainer.peak_outside[hist_run]:.0%} of the ratios ended outside [1−ε, 1+ε] in one epoch: "
            "clipping removes the gradient's push, it does not bound the ratio (Adam's momentum and the "
            "shared logits still move it)."
        )


def render(page: LessonPage) -> None:
    st.markdown(
        "Every run starts from the same uniform policy with the same random stream; each seed is one slice "
        "of a tensor, so 100 seeds train in one pass. The reward is known, so *stuck* is measurable."
    )
    config = controls(page)
    if config is None:
        return
    clipped_runs = [n for n in config.run_names() if not n.startswith("reinforce")]
    if clipped_runs:
        if page.value("hist_run") not in clipped_runs:  # a run of earlier settings
            page.set_value("hist_run", clipped_runs[0])
        page.widget(st.selectbox, "hist_run", "Ratio histogram of", clipped_runs, default=clipped_runs[0])
    hist_run = page.value("hist_run")
    settings = {name: page.value(name) for name in SETTINGS}
    page.train(
        lambda: SandboxTrainer(config, page.device),
        total_steps=int(page.value("iterations", 100)),
        render=lambda run: draw(page, run, hist_run),
        settings=settings,
    )
