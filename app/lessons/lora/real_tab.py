"""Tab "SmolLM2": LoRA at several ranks and full fine-tuning of the same matrices, on the user's text."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from app.lecture import advanced_controls
from app.lessons.lora import figures
from app.page import LessonPage
from app.resources import load_shared_model
from models.lora.finetune import FineTuneConfig, LoRAFineTuner

TITLE = "SmolLM2"
RUN = "real"  # this tab's own run (the kit's key "lora-real"; the sandbox has the lesson's run)
RANK_OPTIONS = [1, 2, 4, 8, 16, 32, 64]
# said on every tab that uses SmolLM2 (tests/models/test_lora.py measures the 16)
SMOLLM2_NOTE = (
    "SmolLM2-135M here is the only copy available offline: the Q4_1 GGUF file (4-bit codes, one scale and one "
    "minimum per block of 32 weights) dequantised to float32. Every block of 32 of its weights holds at most 16 "
    "distinct values: its weights are 4-bit numbers stored in float32, not full-precision ones."
)


def controls(page: LessonPage) -> FineTuneConfig | None:
    c1, c2, c3 = st.columns(3)
    with c1:
        page.widget(st.multiselect, "ranks", "LoRA ranks", RANK_OPTIONS, default=[1, 4, 16])
        page.widget(st.checkbox, "full", "Also fine-tune the same matrices in full", default=True)
    with c2:
        page.widget(
            st.text_input,
            "target_modules",
            "Target modules",
            default="q_proj, v_proj",
            help="Linear layers of each adapted decoder layer, e.g. q_proj, k_proj, v_proj, o_proj, "
            "gate_proj, up_proj, down_proj.",
        )
        page.widget(
            st.slider,
            "top_layers",
            "Adapt the top n of SmolLM2's 30 layers",
            1,
            30,
            default=2,
            help="The frozen layers below are run once per text chunk and cached.",
        )
    with c3:
        page.widget(st.number_input, "steps", "Steps", 1, 2000, default=20, step=5)
        page.widget(
            st.selectbox,
            "qlora_rank",
            "QLoRA run (LoRA over an NF4 base)",
            [0, 1, 2, 4, 8, 16],
            default=0,
            format_func=lambda r: "none" if r == 0 else f"r={r}",
        )
    with advanced_controls():
        a1, a2, a3 = st.columns(3)
        with a1:
            lrs = [1e-5, 3e-5, 1e-4, 2e-4, 5e-4, 1e-3, 2e-3, 5e-3, 1e-2, 0.1, 1.0, 100.0]
            page.widget(st.select_slider, "lr", "LoRA learning rate", lrs, default=2e-3)
            page.widget(st.select_slider, "full_lr", "Full fine-tuning learning rate", lrs, default=2e-4)
        with a2:
            page.widget(st.select_slider, "seq_len", "Tokens per sequence", [8, 16, 32, 64, 128], default=32)
            page.widget(st.slider, "batch_size", "Sequences per step", 1, 32, default=4)
            page.widget(st.slider, "max_train_sequences", "Training sequences", 4, 512, default=48)
        with a3:
            page.widget(st.number_input, "alpha_over_r", "α / r", 0.0, 64.0, default=2.0, step=0.5)
            page.widget(st.checkbox, "rslora", "rsLoRA (α/√r)", default=False)
            page.widget(st.slider, "eval_every", "Held-out loss every n steps", 1, 50, default=5)
    return page.config(FineTuneConfig, "The fine-tuning settings")


def render(page: LessonPage) -> None:
    st.markdown(
        "SmolLM2-135M adapted to a text you pick. Every run starts from the same frozen model and sees the "
        "same batches: LoRA at each rank on the target matrices of the top layers, and full fine-tuning of "
        "exactly those matrices. The loss is measured on held-out sequences of the same text."
    )
    st.caption(SMOLLM2_NOTE)
    corpus = page.corpus()
    config = controls(page)
    if corpus is None or config is None:
        return
    _, label, sentences = corpus
    settings = page.settings() | {"text": corpus[0]}

    def factory():
        text = " ".join(" ".join(s) for s in sentences)
        model, tokenizer = load_shared_model("smollm2", page.device)
        return LoRAFineTuner(model, tokenizer, text, config, device=page.device)

    page.train(
        factory,
        int(page.value("steps", 20)),
        run=RUN,
        settings=settings,
        render=lambda run: draw(page, run),
        device=page.device,
        label=f"{label}: r={list(config.ranks)}",
    )
    run = page.run(RUN)
    if run is not None:
        samples(page, run.trainer)


def draw(page: LessonPage, run) -> None:
    tuner: LoRAFineTuner = run.trainer
    if run.steps_done == 0:
        start = next(iter(tuner.initial_heldout.values()))
        st.caption(f"Before training every run has the base model's held-out loss, {start:.3f} nats.")
    frame = pd.DataFrame(
        [dict(run=name, step=s, heldout_loss=v) for name, rows in tuner.history.items() for s, v in rows]
    )
    page.chart(figures.finetune_curves_figure(tuner.history), frame, "real-curves")
    summary = pd.DataFrame(tuner.summary())
    start = min(tuner.initial_heldout.values())
    left, right = st.columns([3, 2])
    with left:
        page.chart(figures.final_loss_figure(summary, start), summary, "real-final")
    with right:
        shown = summary.rename(
            columns=dict(
                trained_parameters="trained",
                share_percent="share %",
                heldout_loss="held-out loss",
                seconds_per_step="s / step",
                training_state_mb="weights+grads+Adam MB",
                peak_memory_mb="peak GPU MB",
            )
        )
        if shown["peak GPU MB"].isna().all():
            shown = shown.drop(columns="peak GPU MB")
        page.table(shown.set_index("run"), width="stretch")
    st.markdown(readout(summary, tuner))


def readout(summary: pd.DataFrame, tuner: LoRAFineTuner) -> str:
    lora = summary[summary["run"].str.startswith("r=")]
    lines = [f"After {tuner.step} steps:"]
    if len(lora) >= 2:
        lines.append(
            f"- the LoRA ranks end within **{lora['heldout_loss'].max() - lora['heldout_loss'].min():.3f} "
            f"nats** of each other, with {lora['trained_parameters'].min():,} to "
            f"{lora['trained_parameters'].max():,} trained numbers "
            f"({lora['share_percent'].min():.3f}–{lora['share_percent'].max():.3f} % of the model)."
        )
    if len(lora) and "full" in set(summary["run"]):
        full = summary[summary["run"] == "full"].iloc[0]
        best = lora.loc[lora["heldout_loss"].idxmin()]
        lines.append(
            f"- full fine-tuning of the same matrices ({int(full['trained_parameters']):,} numbers) ends at "
            f"**{full['heldout_loss']:.3f}**, the best rank ({best['run']}, "
            f"{int(best['trained_parameters']):,} numbers) at **{best['heldout_loss']:.3f}**."
        )
        ratio = full["seconds_per_step"] / lora["seconds_per_step"].mean()
        lines.append(
            f"- a full fine-tuning step took **{ratio:.2f}×** the time of a LoRA step on this device: most of "
            "the work is the forward and backward pass through the layers, which both need."
        )
    qlora = summary[summary["run"].str.startswith("QLoRA")]
    if len(qlora):
        q = qlora.iloc[0]
        twin = summary[summary["run"] == q["run"].removeprefix("QLoRA ")]
        if len(twin):
            lines.append(
                f"- {q['run']} over the NF4-rounded base ends at **{q['heldout_loss']:.3f}**, LoRA at the same "
                f"rank over SmolLM2 as loaded (itself dequantised Q4_1) at **{twin.iloc[0]['heldout_loss']:.3f}**: "
                f"**{q['heldout_loss'] - twin.iloc[0]['heldout_loss']:+.3f}** nats. Before training the NF4 base "
                f"was at {tuner.initial_heldout[q['run']]:.3f}, SmolLM2 as loaded at "
                f"{tuner.initial_heldout[twin.iloc[0]['run']]:.3f}."
            )
    return "**What the data shows**\n\n" + "\n".join(lines)


def samples(page: LessonPage, tuner: LoRAFineTuner) -> None:
    with st.expander("Samples before and after (greedy continuation)"):
        prompt = page.widget(st.text_input, "sample_prompt", "Prompt", default="The history of")
        if st.button("Continue the prompt with every run", key=page.state_key("sample-go")):

            def generate():
                if not prompt.strip():
                    raise ValueError("Type a prompt first.")
                names = [None, *tuner.runs]
                return {("base (before)" if n is None else n): tuner.sample(n, prompt) for n in names}

            page.compute("samples", "Generating", generate)
        result = page.result("samples")
        if result:
            st.table(pd.DataFrame({"run": list(result), "continuation": list(result.values())}))
