"""Tab "PEFT families": LoRA beside IA³, prompt tuning, prefix tuning and LN tuning (all built by PEFT) and full
fine-tuning, trained live on SmolLM2 and the user's text: held-out loss against the number of trained parameters."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from app.lecture import advanced_controls
from app.lessons.lora import figures
from app.lessons.lora.real_tab import SMOLLM2_NOTE
from app.page import LessonPage
from app.resources import load_shared_model
from models.lora.peft_families import FamiliesConfig, FamiliesTrainer, formula_count
from models.registry import SMOLLM2_ARCHITECTURE

TITLE = "PEFT families"
RUN = "peft"  # this tab's own run (the kit's key "lora-peft")
LRS = [1e-5, 3e-5, 1e-4, 2e-4, 5e-4, 1e-3, 2e-3, 5e-3, 1e-2, 3e-2, 0.1, 0.3, 1.0]
FAMILY_TABLE = """
| family (PEFT config) | what trains | numbers trained |
|---|---|---|
| **LoRA** (`LoraConfig`) | a rank-r update B·A beside each target matrix | r·(in + out) per matrix per layer |
| **IA³** (`IA3Config`) | vectors that rescale keys, values and the FFN's inner activations | kv width·2 + FFN width, per layer |
| **prompt tuning** (`PromptTuningConfig`) | n vectors placed before the text | n·d |
| **prefix tuning** (`PrefixTuningConfig`) | n extra keys and values in each layer's attention | n·2·kv width, per layer |
| **LN tuning** (`LNTuningConfig`) | the RMSNorm gains only | 2·d per layer + d |
| **full** (plain torch) | every weight of the adapted layers | all of them |
"""


def controls(page: LessonPage) -> FamiliesConfig | None:
    c1, c2, c3 = st.columns(3)
    with c1:
        page.widget(st.multiselect, "lora_ranks", "LoRA ranks", [1, 2, 4, 8, 16, 64], default=[1, 8])
        page.widget(
            st.multiselect,
            "prompt_tokens",
            "Prompt tuning: virtual tokens",
            [1, 4, 16, 64],
            default=[16],
        )
        page.widget(
            st.multiselect,
            "prefix_tokens",
            "Prefix tuning: virtual tokens",
            [1, 4, 16, 64],
            default=[16],
        )
    with c2:
        page.widget(st.checkbox, "ia3", "IA³", default=True)
        page.widget(st.checkbox, "ln", "LN tuning (RMSNorm gains)", default=True)
        page.widget(st.checkbox, "full", "Full fine-tuning of the adapted layers", default=True)
        page.widget(
            st.slider,
            "top_layers",
            "Adapt the top n of SmolLM2's 30 layers",
            1,
            30,
            default=2,
            help="The frozen layers below run once per text chunk and are cached. At 30, prompt tuning's "
            "vectors enter at the embeddings, as in the paper; below, at the first adapted layer.",
        )
    with c3:
        page.widget(st.number_input, "steps", "Steps per run", 1, 1000, default=20, step=5)
        page.widget(st.text_input, "target_modules", "LoRA's target modules", default="q_proj, v_proj")
    with advanced_controls():
        a1, a2, a3 = st.columns(3)
        learning_rates = [  # (column, family, label, default)
            (a1, "lora", "LoRA", 2e-3),
            (a1, "ia3", "IA³", 1e-2),
            (a1, "prompt", "Prompt tuning", 3e-2),
            (a2, "prefix", "Prefix tuning", 3e-2),
            (a2, "ln", "LN tuning", 1e-2),
            (a2, "full", "Full fine-tuning", 2e-4),
        ]
        for column, family, label, default in learning_rates:
            page.widget(
                column.select_slider,
                f"{family}_lr",
                f"{label} learning rate",
                LRS,
                default=default,
            )
        with a3:
            page.widget(
                st.select_slider,
                "seq_len",
                "Tokens per sequence",
                [8, 16, 32, 64, 128],
                default=32,
            )
            page.widget(st.slider, "batch_size", "Sequences per step", 1, 32, default=4)
            page.widget(st.slider, "max_train_sequences", "Training sequences", 2, 512, default=48)
            page.widget(st.slider, "heldout_sequences", "Held-out sequences", 1, 64, default=8)
            page.widget(st.slider, "eval_every", "Held-out loss every n steps", 1, 50, default=5)
    return page.config(FamiliesConfig, "The PEFT-family settings")


def planned_counts(config: FamiliesConfig) -> pd.DataFrame:
    """What each run will train, by formula from SmolLM2's shapes (no model is built)."""
    arch = SMOLLM2_ARCHITECTURE
    layers = formula_count("full", 0, arch, arch["num_hidden_layers"])
    embeddings = arch["vocab_size"] * arch["hidden_size"]  # tied with the LM head: counted once
    total = layers + embeddings + arch["hidden_size"]  # and the final norm: 134,515,008
    rows = []
    for name, family, size in config.runs():
        n = formula_count(family, size, SMOLLM2_ARCHITECTURE, config.top_layers, config.target_modules)
        rows.append({"run": name, "trained parameters": n, "share %": 100 * n / total})
    return pd.DataFrame(rows).set_index("run")


def render(page: LessonPage) -> None:
    st.markdown(
        "LoRA is one of several **parameter-efficient** families. Each trains a different small set of numbers "
        "beside the frozen SmolLM2-135M, all built here by Hugging Face's "
        "[PEFT](https://github.com/huggingface/peft) library; every run starts from the same model, sees the "
        "same batches of the text you pick, and is measured on the same held-out sequences. The picture from "
        "the lecture: **held-out loss against the number of trained parameters**."
    )
    st.markdown(FAMILY_TABLE)
    st.caption(
        "Bottleneck adapters (Houlsby et al. 2019: a small down-/up-projection MLP inserted after attention "
        "and the FFN) are not in PEFT, so they are not trained here; LN tuning, which PEFT does have, is the "
        "other family that trains a few numbers *inside* each layer. The model is the real SmolLM2-135M, "
        "not a small copy: only its top layers are adapted and the frozen layers below are computed once "
        "and cached, so prompt tuning's vectors enter at the first adapted layer and prefix tuning's keys "
        "and values reach the adapted layers only (exactly the papers' methods when all 30 layers are "
        "adapted, at far more time per step)."
    )
    st.caption(SMOLLM2_NOTE)
    corpus = page.corpus()
    config = controls(page)
    if corpus is None or config is None:
        return
    key, label, sentences = corpus
    settings = page.settings() | {"text": key}
    runs = config.runs()

    def factory():
        text = " ".join(" ".join(s) for s in sentences)
        model, tokenizer = load_shared_model("smollm2", page.device)
        return FamiliesTrainer(model, tokenizer, text, config, device=page.device)

    page.train(
        factory,
        config.steps * len(runs),
        run=RUN,
        settings=settings,
        render=lambda run: draw(page, run),
        device=page.device,
        label=f"{label}: {len(runs)} runs",
    )
    run = page.run(RUN)
    if run is None or run.settings != settings:
        st.markdown(
            f"**The runs these settings build** ({config.steps} steps each; a step of the progress bar is "
            "one step of one run, the runs taking turns), trained numbers by formula:"
        )
        page.table(planned_counts(config).round(4), width="stretch")


def draw(page: LessonPage, run) -> None:
    tuner: FamiliesTrainer = run.trainer
    summary = pd.DataFrame(tuner.summary())
    base = tuner.base_heldout
    if run.steps_done == 0:
        st.caption(
            "Before training: LoRA, IA³ and LN tuning start exactly at the base model (B = 0, scales of 1, "
            "copied gains); prompt and prefix tuning start from random vectors, so their loss starts elsewhere: "
            + ", ".join(f"{name} {loss:.3f}" for name, loss in tuner.initial_heldout.items())
            + " nats."
        )
    page.chart(figures.families_figure(summary, base), summary, "families")
    left, right = st.columns([3, 2])
    with left:
        frame = pd.DataFrame(
            [dict(run=name, step=s, heldout_loss=v) for name, rows in tuner.history.items() for s, v in rows]
        )
        page.chart(figures.finetune_curves_figure(tuner.history), frame, "families-curves")
    with right:
        shown = summary.drop(columns=["family", "size"]).rename(
            columns=dict(
                trained_parameters="trained",
                share_percent="share %",
                heldout_loss="held-out loss",
                heldout_accuracy="next-token accuracy",
                seconds_per_step="s / step",
            )
        )
        page.table(shown.set_index("run").round(4), width="stretch")
    st.markdown(readout(summary, tuner))


def readout(summary: pd.DataFrame, tuner: FamiliesTrainer) -> str:
    lines = []
    done = summary[summary["steps"] > 0]
    if done.empty:
        return "**What the data shows** appears after the first step of every run."
    best = done.loc[done["heldout_loss"].idxmin()]
    lines.append(
        f"- lowest held-out loss: **{best['run']}** at **{best['heldout_loss']:.3f}** nats with "
        f"{int(best['trained_parameters']):,} trained numbers ({best['share_percent']:.4f} % of the model)."
    )
    for _family, part in done.groupby("family", sort=False):
        row = part.loc[part["heldout_loss"].idxmin()]
        start = tuner.initial_heldout[row["run"]]
        lines.append(
            f"- {row['run']}: {start:.3f} → **{row['heldout_loss']:.3f}** after {int(row['steps'])} steps, "
            f"{int(row['trained_parameters']):,} numbers."
        )
    if "full" in set(done["run"]) and len(done) > 1:
        full = done[done["run"] == "full"].iloc[0]
        others = done[done["run"] != "full"]
        close = others[others["heldout_loss"] <= full["heldout_loss"] + 0.05]
        if len(close):
            smallest = close.loc[close["trained_parameters"].idxmin()]
            lines.append(
                f"- the smallest run within 0.05 nats of full fine-tuning ({full['heldout_loss']:.3f}) is "
                f"**{smallest['run']}**, with **{full['trained_parameters'] / smallest['trained_parameters']:,.0f}×** "
                "fewer trained numbers."
            )
        else:
            lines.append(
                f"- no parameter-efficient run is within 0.05 nats of full fine-tuning "
                f"({full['heldout_loss']:.3f}) yet."
            )
    return f"**What the data shows** (steps per run so far: up to {int(done['steps'].max())})\n\n" + "\n".join(lines)
