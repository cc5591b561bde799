"""Tab "Reward model & DPO": InstructGPT's reward model (Bradley–Terry) and DPO, fitted to the same preference pairs
from the known reward; DPO's implicit reward set beside the learned one (models/rlhf/dpo_sandbox.py)."""

import streamlit as st

from app.lessons.rlhf import figures
from app.page import LessonPage
from models.rlhf.dpo_sandbox import DPOConfig, DPOTrainer

TITLE = "Reward model & DPO"


def draw(page: LessonPage, run) -> None:
    trainer = run.trainer
    if not trainer.history:
        return
    last = trainer.history[-1]
    st.markdown("**Step 2 of InstructGPT: a reward model** (Bradley–Terry)")
    cols = st.columns(3)
    cols[0].metric("Reward model loss", f"{last['rm_loss']:.3f}", help="log 2 = 0.693 at the start (r = 0)")
    cols[1].metric("Held-out pairs ranked right (reward model)", f"{last['rm_heldout_accuracy']:.0%}")
    cols[2].metric("Correlation with the true reward (reward model)", f"{last['rm_correlation']:.2f}")
    st.markdown("**DPO: no reward model, no RL loop** (its policy is the reward model)")
    cols = st.columns(4)
    cols[0].metric("DPO loss", f"{last['loss']:.3f}", help="log 2 = 0.693 at the start")
    cols[1].metric("Held-out pairs ranked right (DPO's implicit reward)", f"{last['dpo_heldout_accuracy']:.0%}")
    cols[2].metric("Correlation with the true reward (DPO's implicit reward)", f"{last['dpo_correlation']:.2f}")
    cols[3].metric(
        "Task reward when sampled",
        f"{last['task_reward']:.2f}",
        delta=f"{last['task_reward'] - trainer.reference_reward:+.2f} vs reference",
    )
    fig, frame = figures.history_lines(
        trainer.history,
        ["rm_loss", "loss", "rm_heldout_accuracy", "dpo_heldout_accuracy", "task_reward"],
        "The reward model (rm_) and DPO on the same pairs",
    )
    fig.update_xaxes(title_text="step")
    page.chart(fig, frame, "dpo-curves")
    sequences = trainer.sequences
    fig, frame = figures.reward_scatter(
        trainer.true_reward.cpu().numpy(),
        trainer.learned_reward(sequences).cpu().numpy(),
        trainer.implicit_reward(sequences).cpu().numpy(),
    )
    page.chart(fig, frame, "reward-scatter")
    st.caption(
        "Both are rewards learned from the same pairs; neither sees the true reward. The reward model's score "
        "adds one weight per position and token, the form of the true reward, so it can rank every sequence. "
        "DPO's implicit reward β·(log π(y) − log ref(y)) also moves wherever the pairs do not constrain it "
        "(the reference's rare sequences), so it follows the true reward more loosely. Both of DPO's "
        "log-probabilities usually fall: it widens the gap between chosen and rejected, and can do so by "
        "pushing the rejected ones down faster than the chosen ones."
    )


def render(page: LessonPage) -> None:
    st.markdown(
        "InstructGPT trains a **reward model** on human preference pairs with the Bradley–Terry loss "
        "−log σ(r(y_w) − r(y_l)), then maximises it with PPO (tab *RLHF on SmolLM2*). **DPO** skips both: for "
        "the same pairs it minimises −log σ(β·[(log π(y_w) − log ref(y_w)) − (log π(y_l) − log ref(y_l))]), "
        "and its policy then defines an implicit reward β·log π/ref. Here the pairs are two sequences sampled "
        "from a random reference policy on the sandbox's sequence task, the one with the higher true reward "
        "chosen (ties dropped); a quarter as many pairs are held out. Each step trains both on the same pairs."
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
        render=lambda run: draw(page, run),
        device=page.device,
    )
