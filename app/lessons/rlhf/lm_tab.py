"""Tab "RLHF on SmolLM2": a LoRA policy, its frozen reference, a readable reward, a KL penalty (models/rlhf/language_model.py)."""

import pandas as pd
import streamlit as st

from app.lecture import pinned
from app.lessons.rlhf import figures
from app.page import LessonPage
from app.resources import load_shared_model
from models.rlhf.language_model import DEFAULT_PROMPTS, RLHFConfig, RLHFTrainer

TITLE = "RLHF on SmolLM2"
SETTINGS = [
    "prompts",
    "reward",
    "keyword",
    "method",
    "kl_coef",
    "adapter_lr",
    "lora_rank",
    "samples_per_prompt",
    "new_tokens",
    "ppo_epochs",
    "lm_iterations",
]


def controls(page: LessonPage):
    c1, c2, c3 = st.columns([2, 1, 1])
    with c1:
        page.widget(st.text_area, "prompts", "Prompts (one per line)", default="\n".join(DEFAULT_PROMPTS), height=140)
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
            ["ppo", "grpo"],
            default="ppo",
            horizontal=True,
            help="ppo: KL penalty in the reward, batch-whitened advantages; grpo: group advantages, KL in the loss",
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
        page.widget(st.select_slider, "adapter_lr", "Learning rate", [1e-4, 3e-4, 1e-3, 2e-3, 5e-3, 1e-2], default=1e-3)
        page.widget(st.select_slider, "lora_rank", "LoRA rank", [1, 2, 4, 8, 16], default=8)
        page.widget(st.slider, "samples_per_prompt", "Samples per prompt (group)", 1, 8, default=2)
        page.widget(st.slider, "new_tokens", "New tokens", 4, 32, default=12)
        page.widget(st.slider, "ppo_epochs", "PPO epochs", 1, 4, default=1)
        page.widget(st.number_input, "lm_iterations", "Iterations", 1, 500, default=30)
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


def draw(page: LessonPage, run) -> None:
    trainer = run.trainer
    if not trainer.history:
        return
    title = "Reward, KL to the reference (nats per continuation), entropy"
    pins = pinned(f"{page.slug}-lm")  # runs kept with 📌 Pin run, e.g. β = 0 beside β = 0.1
    if pins:
        histories = {run.label or "this run": trainer.history}
        for k, pin in enumerate(pins):
            histories[f"📌 {k + 1}: {pin['label']}"] = pin["payload"].to_dict("records")
        fig, frame = figures.runs_lines(histories, ["reward", "kl", "entropy"], title)
    else:
        fig, frame = figures.history_lines(trainer.history, ["reward", "kl", "entropy"], title)
    page.chart(fig, frame, "rlhf-curves")
    last = trainer.history[-1]
    st.caption(
        f"Last iteration: generate {last['generate_s']:.1f} s · score {last['score_s']:.2f} s · "
        f"update {last['update_s']:.1f} s · clip fraction {last['clip_fraction']:.2f} · "
        f"approx KL {last['approx_kl']:.4f}"
    )
    first, latest = trainer.batches
    left, right = st.columns(2)
    with left:
        st.markdown(f"**Before** (iteration {first.iteration + 1}, mean reward {first.rewards.mean():.2f})")
        st.dataframe(samples_table(first), hide_index=True, width="stretch")
    with right:
        st.markdown(f"**Latest** (iteration {latest.iteration + 1}, mean reward {latest.rewards.mean():.2f})")
        st.dataframe(samples_table(latest), hide_index=True, width="stretch")


def make_trainer(page: LessonPage, config: RLHFConfig):
    model, tokenizer = load_shared_model("smollm2", page.device)
    return RLHFTrainer(model, tokenizer, config, page.device)


def render(page: LessonPage) -> None:
    st.markdown(
        "SmolLM2-135M continues short prompts; a transparent reward scores each continuation; LoRA adapters "
        "(rank r on the attention's q and v) are trained with PPO's clipped loss. The reference is the same "
        "model with the adapters switched off. The KL penalty β keeps the policy close to it; at **β = 0** "
        "the reward climbs by any means. At the default sizes one iteration took about 13 s on a lightly loaded 2-core "
        "CPU (several times longer on a shared one), so the β = 0 demo's 15 iterations take 3–4 minutes and "
        "the reward barely moves in the first eight; a GPU is much faster. Nothing runs until you press Start."
    )
    config = controls(page)
    if config is None:
        return
    page.train(
        run="lm",
        factory=lambda: make_trainer(page, config),
        total_steps=int(page.value("lm_iterations", 30)),
        settings={name: page.value(name) for name in SETTINGS},
        render=lambda run: draw(page, run),
        device=page.device,
        label=f"β = {config.kl_coef:g}, lr {config.adapter_lr:g}, {config.method}",
        chunk_seconds=0.3,
    )
