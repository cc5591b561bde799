"""Tab "GRPO": advantages normalised within each group, and the degenerate group that carries no signal.

First on the sandbox's sequence task (computed at once, it is cheap); then on SmolLM2 with the RLHF tab's
prompts and reward, trained live with GRPO (models/rlhf/language_model.py, method="grpo") beside the PPO run of that tab.
"""

import dataclasses

import streamlit as st
import torch

from app.lessons.rlhf import figures, lm_tab
from app.page import LessonPage
from models.rlhf.language_model import METHOD_NAMES, RLHFConfig
from models.rlhf.pg_sandbox import SandboxConfig, SandboxTask, sample
from models.rlhf.policy_gradient import grpo_advantages

TITLE = "GRPO"


def sample_groups(group_size: int, groups: int = 6, seed: int = 0):
    """Groups of sequences from the uniform policy on the sequence task; rewards and GRPO advantages."""
    config = SandboxConfig(
        task="sequence",
        n_seeds=1,
        n_actions=4,
        seq_len=4,
        methods=("grpo",),
        batch_size=group_size * 2,
        group_size=group_size,
    )
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
    page.widget(st.slider, "group_size", "Group size (continuations per prompt)", 2, 8, default=4)
    size = int(page.value("group_size", 4))
    result = page.compute("groups", "GRPO groups", sample_groups, size)
    if result is None:
        return
    rewards, advantages, degenerate = result
    st.metric(
        "Share of degenerate groups (all rewards equal, zero advantage)",
        f"{degenerate:.1%}",
        help="measured on 4,000 sampled groups of this size",
    )
    fig, frame = figures.groups_figure(rewards, advantages)
    page.chart(fig, frame, "grpo-groups")
    lm_half(page)


def lm_config(page: LessonPage) -> RLHFConfig:
    """The RLHF tab's settings (prompts, reward, β, learning rate, ...) with this tab's group size."""
    base = page.result("config-RLHFConfig") or RLHFConfig()  # the RLHF tab's last valid settings
    prompts = base.prompts[: int(page.value("prompt_count", 4))]
    return dataclasses.replace(base, method="grpo", prompts=prompts, group_size=int(page.value("group_size", 4)))


def draw_lm(page: LessonPage, run) -> None:
    trainer = run.trainer
    if not trainer.history:
        return
    histories = {"GRPO (this tab)": trainer.history}
    lm_run = page.run("lm")
    if lm_run is not None and lm_run.trainer is not None and lm_run.trainer.history:
        method = METHOD_NAMES[lm_run.trainer.config.method]
        histories[f"{method} (tab {lm_tab.TITLE})"] = lm_run.trainer.history
    fig, frame = figures.runs_lines(
        histories, ["reward", "kl", "zero_advantage"], "Reward, KL to the reference, share of zero-advantage samples"
    )
    page.chart(fig, frame, "grpo-lm-curves")
    batch, size = trainer.batches[-1], trainer.config.group_size
    grouped = batch.rewards.reshape(-1, size)
    ties = (grouped == grouped[:, :1]).all(1)
    st.metric(
        f"Groups with equal rewards in iteration {batch.iteration + 1} (no signal)",
        f"{int(ties.sum())} of {len(grouped)}",
        help="VADER scores many neutral continuations exactly 0: a group of neutral answers ties",
    )
    fig, frame = figures.groups_figure(grouped.numpy(), batch.advantages.reshape(-1, size).numpy())
    page.chart(fig, frame, "grpo-lm-groups")
    page.table(figures.grpo_batch_table(batch, size), hide_index=True, width="stretch")


def lm_half(page: LessonPage) -> None:
    st.markdown(
        "#### GRPO on SmolLM2: the critic-free alternative to PPO\n"
        f"The task of the tab *{lm_tab.TITLE}* (its prompts, reward, β, learning rate and LoRA rank), trained "
        "with GRPO: each prompt gets a group of continuations (the group size above), each is scored by the "
        "reward, and its advantage is its reward against its own group: no value head, no GAE. The KL to the "
        "reference is a term of the loss (β·k3 per token). Neutral continuations all score 0 under VADER, so "
        "with small groups many groups tie and teach nothing. Its curves are drawn beside the run of the tab "
        f"*{lm_tab.TITLE}* (actor-critic PPO by default); nothing runs until you press Start."
    )
    c1, c2 = st.columns(2)
    with c1:
        page.widget(st.slider, "prompt_count", "Prompts (the first of the RLHF tab's)", 1, 8, default=4)
    with c2:
        page.widget(st.number_input, "iterations", "Iterations", 1, 500, default=30)
    config = page.compute("grpo-lm-config", "GRPO settings", lm_config, page)
    if config is None:
        return
    page.train(
        run="grpo",
        factory=lambda: lm_tab.make_trainer(page, config),
        total_steps=int(page.value("iterations", 30)),
        settings=dataclasses.asdict(config),  # the RLHF tab's settings with this tab's, as the run uses them
        render=lambda run: draw_lm(page, run),
        device=page.device,
        chunk_seconds=0.3,
    )
