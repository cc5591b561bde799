"""Tab "DPO": preference pairs from the known reward, trained with DPO's loss (models/rlhf/dpo_sandbox.py)."""

import streamlit as st

from app.lessons.rlhf import figures
from app.page import LessonPage
from models.rlhf.dpo_sandbox import DPOConfig, DPOTrainer

TITLE = "DPO"


def draw(page: LessonPage, run) -> None:
    trainer = run.trainer
    if not trainer.history:
        return
    last = trainer.history[-1]
    cols = st.columns(4)
    cols[0].metric("DPO loss", f"{last['loss']:.3f}", help="log 2 = 0.693 at the start")
    cols[1].metric("Implicit reward margin", f"{last['reward_margin']:.2f}")
    cols[2].metric("Pairs ranked right", f"{last['pair_accuracy']:.0%}")
    cols[3].metric(
        "Task reward when sampled",
        f"{last['task_reward']:.2f}",
        delta=f"{last['task_reward'] - trainer.reference_reward:+.2f} vs reference",
    )
    fig, frame = figures.history_lines(
        trainer.history,
        ["loss", "reward_margin", "chosen_logp", "rejected_logp", "task_reward"],
        "DPO on the sequence task",
    )
    fig.update_xaxes(title_text="step")
    page.chart(fig, frame, "dpo-curves")
    st.caption(
        "Both log-probabilities usually fall: DPO widens the gap between chosen and rejected, and can do so "
        "by pushing the rejected ones down faster than the chosen ones."
    )


def render(page: LessonPage) -> None:
    st.markdown(
        "DPO skips the reward model and the RL loop: for pairs (chosen y_w, rejected y_l) it minimises "
        "−log σ(β·[(log π(y_w) − log ref(y_w)) − (log π(y_l) − log ref(y_l))]). Here the pairs are two "
        "sequences sampled from a random reference policy on the sandbox's sequence task, the one with the "
        "higher reward chosen (ties dropped)."
    )
    c1, c2, c3 = st.columns(3)
    with c1:
        page.widget(st.number_input, "beta", "β", default=0.1, step=0.05, format="%.2f")
    with c2:
        page.widget(st.select_slider, "n_pairs", "Preference pairs", [32, 64, 128, 256, 1024], default=256)
    with c3:
        page.widget(st.select_slider, "dpo_lr", "Learning rate", [0.01, 0.05, 0.1, 0.5], default=0.05)
    config = page.config(DPOConfig, "DPO settings")
    if config is None:
        return
    page.train(
        run="dpo",
        factory=lambda: DPOTrainer(config, page.device),
        total_steps=300,
        settings={name: page.value(name) for name in ("beta", "n_pairs", "dpo_lr")},
        render=lambda run: draw(page, run),
        device=page.device,
    )
