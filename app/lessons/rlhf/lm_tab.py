"""Tab "RLHF on SmolLM2": a LoRA policy, its frozen reference, a readable reward, a KL penalty, and one of three
recipes: actor-critic PPO, GRPO or REINFORCE with a batch baseline (models/rlhf/language_model.py)."""

import pandas as pd
import streamlit as st

from app.lecture import pinned
from app.lessons.rlhf import figures
from app.page import LessonPage
from app.resources import load_shared_model
from models.rlhf.language_model import DEFAULT_PROMPTS, METHOD_NAMES, METHODS, RLHFConfig, RLHFTrainer

TITLE = "RLHF on SmolLM2"
HACKING_WINDOW = 3  # iterations averaged at each end of a run for the reward-hacking summary


def controls(page: LessonPage):
    c1, c2, c3 = st.columns([2, 1, 1])
    with c1:
        default_prompts = "\n".join(RLHFConfig().prompts)
        page.widget(st.text_area, "prompts", "Prompts (one per line)", default=default_prompts, height=140)
        st.caption("More prompts to copy: " + " · ".join(DEFAULT_PROMPTS[4:]))
    with c2:
        page.widget(
            st.radio,
            "reward",
            "Reward",
            ["sentiment", "keyword"],
            default="sentiment",
            horizontal=True,
            help="sentiment: VADER's compound score in [−1, 1]; keyword: 1 if the word appears",
        )
        page.widget(st.text_input, "keyword", "Keyword", default="great")
        page.widget(
            st.radio,
            "method",
            "Recipe",
            list(METHODS),
            default="ppo",
            format_func=METHOD_NAMES.get,
            help="PPO: a value head (critic), GAE along the tokens, epochs of minibatches. GRPO: each prompt's "
            "group is the baseline. REINFORCE: the batch mean is the baseline, one gradient step.",
        )
        page.widget(
            st.number_input,
            "kl_coef",
            "KL coefficient β",
            default=0.05,
            step=0.01,
            format="%.3f",
            help="0 = no leash to the reference: watch the reward get hacked",
        )
    with c3:
        page.widget(
            st.select_slider, "adapter_lr", "Learning rate", [1e-4, 3e-4, 1e-3, 2e-3, 3e-3, 5e-3, 1e-2], default=1e-3
        )
        page.widget(st.select_slider, "lora_rank", "LoRA rank", [1, 2, 4, 8, 16], default=8)
        page.widget(st.slider, "group_size", "Group size (continuations per prompt)", 1, 8, default=2)
        page.widget(st.slider, "new_tokens", "New tokens", 4, 32, default=10)
        page.widget(st.number_input, "iterations", "Iterations", 1, 500, default=30)
    with st.expander("PPO's update: epochs, minibatches, critic"):
        d1, d2, d3, d4 = st.columns(4)
        with d1:
            page.widget(st.slider, "ppo_epochs", "Epochs per batch (PPO, GRPO)", 1, 8, default=2)
        with d2:
            page.widget(st.slider, "minibatches", "Minibatches per epoch (PPO)", 1, 8, default=2)
        with d3:
            page.widget(st.number_input, "vf_coef", "Value loss weight c₁", default=0.1, step=0.05, format="%.2f")
        with d4:
            page.widget(st.number_input, "ent_coef", "Entropy bonus c₂", default=0.0, step=0.01, format="%.3f")
    prompts = tuple(str(page.value("prompts", "")).splitlines())
    return page.config(RLHFConfig, "RLHF settings", prompts=prompts)


def samples_table(batch) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "prompt": batch.prompts,
            "continuation": batch.texts,
            "reward": batch.rewards.numpy().round(3),
            "KL to reference": batch.kl.numpy().round(3),
        }
    )


def hacking_summary(history: list[dict], window: int = HACKING_WINDOW) -> dict:
    """What reward hacking looks like in numbers: the mean reward of the first and last `window` iterations, the
    KL to the reference and the share of repeated words at the last one."""
    first, last = history[:window], history[-window:]
    return {
        "reward_first": sum(row["reward"] for row in first) / len(first),
        "reward_last": sum(row["reward"] for row in last) / len(last),
        "kl_last": history[-1]["kl"],
        "repetition_last": history[-1]["repetition"],
        "iteration": history[-1]["iteration"],
    }


def draw(page: LessonPage, run) -> None:
    trainer = run.trainer
    if not trainer.history:
        return
    summary = hacking_summary(trainer.history)
    cols = st.columns(3)
    cols[0].metric(
        f"Reward, first {HACKING_WINDOW} → last {HACKING_WINDOW} iterations",
        f"{summary['reward_first']:.2f} → {summary['reward_last']:.2f}",
    )
    cols[1].metric(f"KL to the reference, iteration {summary['iteration']}", f"{summary['kl_last']:.1f} nats")
    cols[2].metric(
        "Repeated words in the latest batch",
        f"{summary['repetition_last']:.0%}",
        help="share of words that repeat an earlier word of the same continuation",
    )
    metrics = ["reward", "kl", "repetition"]
    if trainer.config.method != "reinforce":
        metrics.append("clip_fraction")
    if trainer.config.method == "ppo":
        metrics.append("explained_variance")
    title = "Reward, KL to the reference (nats per continuation), repeated words, PPO's diagnostics"
    pins = pinned(f"{page.slug}-lm")  # runs kept with 📌 Pin run, e.g. β = 0 beside β = 0.1
    if pins:
        histories = {run.label or "this run": trainer.history}
        for k, pin in enumerate(pins):
            histories[f"📌 {k + 1}: {pin['label']}"] = pin["payload"].to_dict("records")
        fig, frame = figures.runs_lines(histories, metrics, title)
    else:
        fig, frame = figures.history_lines(trainer.history, metrics, title)
    page.chart(fig, frame, "rlhf-curves")
    last = trainer.history[-1]
    update = f"update {last['update_s']:.1f} s"
    if trainer.config.method == "ppo":
        update += (
            f" ({trainer.config.ppo_epochs} epochs x {trainer.config.minibatches} minibatches) · clip fraction "
            f"{last['clip_fraction']:.2f} (last epoch {last['last_epoch_clip_fraction']:.2f}) · approx KL "
            f"{last['approx_kl']:.4f} · value loss {last['value_loss']:.3f} · explained variance "
            f"{last['explained_variance']:.2f}"
        )
    elif trainer.config.method == "grpo":
        update += f" ({trainer.config.ppo_epochs} epochs) · clip fraction {last['clip_fraction']:.2f}"
    else:
        update += " (one REINFORCE step: the ratio is 1, nothing to clip)"
    st.caption(f"Last iteration: generate {last['generate_s']:.1f} s · score {last['score_s']:.2f} s · {update}")
    first, latest = trainer.batches
    left, right = st.columns(2)
    with left:
        st.markdown(f"**Before** (iteration {first.iteration + 1}, mean reward {first.rewards.mean():.2f})")
        page.table(samples_table(first), hide_index=True, width="stretch")
    with right:
        st.markdown(f"**Latest** (iteration {latest.iteration + 1}, mean reward {latest.rewards.mean():.2f})")
        page.table(samples_table(latest), hide_index=True, width="stretch")


def make_trainer(page: LessonPage, config: RLHFConfig):
    model, tokenizer = load_shared_model("smollm2", page.device)
    return RLHFTrainer(model, tokenizer, config, page.device)


def render(page: LessonPage) -> None:
    st.markdown(
        "SmolLM2-135M (the Q4_1 GGUF, dequantised: not full precision) continues short prompts; a transparent "
        "reward scores each continuation; LoRA adapters (rank r on the attention's q and v) are trained by the "
        "recipe you pick. **PPO** is InstructGPT's actor-critic: a value head on the policy predicts the return "
        "of each token, GAE turns per-token rewards (−β·KL on each token, the reward on the last) into "
        "advantages, and each batch is reused for several epochs of minibatches, so the ratio π/π_old leaves 1 "
        "and clipping acts (its clip fraction is shown). **GRPO** and **REINFORCE** have no critic: a "
        "prompt's group, or the batch, is the baseline. The reference is the same model with the adapters "
        "switched off; the KL penalty β keeps the policy close to it, and at **β = 0** the reward climbs by "
        "any means. Nothing runs until you press Start; the caption under the chart says how long an "
        "iteration takes here."
    )
    config = controls(page)
    if config is None:
        return
    page.train(
        run="lm",
        factory=lambda: make_trainer(page, config),
        total_steps=int(page.value("iterations", 30)),
        render=lambda run: draw(page, run),
        device=page.device,
        label=f"{config.method}, β = {config.kl_coef:g}, lr {config.adapter_lr:g}",
        chunk_seconds=0.3,
    )
