"""Tab "GRPO groups": advantages normalised within each group, and the degenerate group that carries no signal."""

import numpy as np
import pandas as pd
import streamlit as st
import torch

from app import training
from app.lessons.rlhf import figures
from app.page import LessonPage
from models.pg_sandbox import SandboxConfig, SandboxTask, sample
from models.policy_gradient import grpo_advantages

TITLE = "GRPO groups"


def sample_groups(group_size: int, groups: int = 6, seed: int = 0):
    """Groups of sequences from the uniform policy on the sequence task; rewards and GRPO advantages."""
    config = SandboxConfig(task="sequence", n_seeds=1, n_actions=4, seq_len=4, methods=("grpo",),
                           batch_size=group_size * 2, group_size=group_size)  # fmt: skip
    task = SandboxTask(config)
    table = torch.zeros(1, 4, 4, 4)
    generator = torch.Generator().manual_seed(seed)
    rewards = task.clean_reward(sample(table, groups * group_size, generator))[0]  # (groups * G,)
    advantages = grpo_advantages(rewards, group_size)
    many = task.clean_reward(sample(table, 4000 * group_size, generator))[0].reshape(-1, group_size)
    degenerate = (many == many[:, :1]).all(1).float().mean().item()
    return (
        rewards.reshape(groups, group_size).numpy(),
        advantages.reshape(groups, group_size).numpy(),
        degenerate,
    )


def render(page: LessonPage) -> None:
    st.markdown(
        "GRPO samples a **group** of answers per prompt and scores each against its group: "
        "A = (r − group mean) / (group std + 1e-4). No critic is needed. When every answer in a group earns "
        "the same reward, every advantage is 0 and the group teaches nothing. Below: groups of 4-token "
        "sequences from a uniform policy on the sandbox's sequence task (reward = share of tokens matching a "
        "hidden target; 4 tokens, 4 symbols)."
    )
    page.widget(st.slider, "grpo_group", "Group size", 1, 16, default=4)
    size = int(page.value("grpo_group", 4))
    result = page.compute("groups", "GRPO groups", sample_groups, size)
    if result is None:
        return
    rewards, advantages, degenerate = result
    st.metric("Share of degenerate groups (all rewards equal, zero advantage)", f"{degenerate:.1%}",
              help="measured on 4,000 sampled groups of this size")  # fmt: skip
    fig, frame = figures.groups_figure(rewards, advantages)
    page.chart(fig, frame, "grpo-groups")
    run = training.get_run(f"{page.slug}-lm")
    if run is not None and run.trainer.batches and run.trainer.config.method == "grpo":
        batch = run.trainer.batches[-1]
        st.markdown("**The latest GRPO batch of the SmolLM2 run** (tab *RLHF on SmolLM2*)")
        st.dataframe(pd.DataFrame({"prompt": batch.prompts, "continuation": batch.texts,
                                   "reward": np.round(batch.rewards.numpy(), 3),
                                   "advantage": np.round(batch.advantages.numpy(), 3)}),
                     hide_index=True, width="stretch")  # fmt: skip
