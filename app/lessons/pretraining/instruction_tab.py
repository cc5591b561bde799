"""Tab "Instruction tuning": a tiny model fine-tuned on instructions, the prompt masked out of the loss or not."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from app.lessons.pretraining import figures
from app.page import LessonPage
from models.pretraining.instructions import (
    TASKS,
    TRAINED_PHRASINGS,
    UNSEEN,
    InstructionComparison,
    InstructionConfig,
    InstructionTrainer,
    example,
)

TITLE = "Instruction tuning"
EXAMPLE = ("reverse", 0, "abcde")  # the example whose per-character loss is drawn


def task_table(config: InstructionConfig) -> pd.DataFrame:
    rows = []
    for task, (_, phrasings) in TASKS.items():
        trained = task in config.tasks
        for i in range(len(phrasings)):
            used = ("one and several" if i == 0 else "several") if i < TRAINED_PHRASINGS["several"] else "never"
            prompt, response = example(task, i, "cab")
            rows.append(
                {
                    "task": task + ("" if trained else " (held out)" if task == config.heldout_task else " (unused)"),
                    "example": prompt + response,
                    "trained in": used if trained else "never",
                }
            )
    return pd.DataFrame(rows)


def render(page: LessonPage) -> None:
    with page.settings_area():
        cols = st.columns([3, 1, 1, 1])
        page.widget(cols[0].multiselect, "tasks", "Training mixture", list(TASKS), default=list(TASKS)[:-1])
        page.widget(cols[1].selectbox, "heldout_task", "Held-out task", list(TASKS), default="count")
        page.widget(cols[2].number_input, "steps", "Training steps", 10, 5000, default=400, step=50)
        page.widget(cols[3].number_input, "lr", "Learning rate", default=3e-3, step=1e-3, format="%.4f")
    config = page.config(InstructionConfig, "The instruction-tuning settings")
    if config is None:
        return
    task, phrasing, letters = EXAMPLE
    prompt, response = example(task, phrasing, letters)
    run = page.run("instruct")
    if run is None or not run.history:
        untrained = InstructionTrainer(config, seed=0)
        losses = {"untrained": untrained.token_losses(prompt, response)}
        page.chart(figures.token_loss_strip(prompt + response, losses, len(prompt)), None, "token-loss")
        st.caption("Untrained, every character is a surprise (≈ log of the alphabet's size). Press Start.")
    st.markdown(
        f"Three tiny causal transformers (seed 0) learn the mixture: **one phrasing** per task, **several** "
        f"({TRAINED_PHRASINGS['several']}), and several with the **prompt not masked** out of the loss. Tested "
        "on the phrasings they trained on, on phrasings none of them saw, and on the held-out task."
    )
    page.train(
        lambda: InstructionComparison(config, seed=0, device=page.device),
        total_steps=int(page.value("steps", 400)),
        render=lambda r: draw_run(page, r, prompt, response),
        run="instruct",
        label="instruction tuning",
        chunk_seconds=1.0,
    )
    with st.expander("The tasks and their phrasings"):
        page.table(task_table(config), hide_index=True, width="stretch")
        st.caption(f"Phrasings {UNSEEN[0] + 1} and {UNSEEN[1] + 1} of each task are never trained on.")


def grid(trainers: dict) -> pd.DataFrame:
    frames = []
    for name, trainer in trainers.items():
        frame = pd.DataFrame(trainer.accuracy_grid(per_cell=16))
        frames.append(frame.assign(run=name))
    return pd.concat(frames, ignore_index=True)


def draw_run(page: LessonPage, run, prompt: str, response: str) -> None:
    trainers = run.trainer.trainers
    steps = next(iter(trainers.values())).steps
    kept = page.result("instruct-grid")
    if kept is None or kept[0] != (run.run_id, steps):
        kept = page.keep("instruct-grid", ((run.run_id, steps), grid(trainers)))
    frame = kept[1]
    summary = frame.groupby(["run", "kind"], sort=False)["accuracy"].mean().unstack()
    cols = st.columns(len(trainers))
    for col, name in zip(cols, trainers):
        row = summary.loc[name]
        col.metric(
            f"{name}: seen / unseen phrasings / held-out task",
            f"{row.get('seen', 0):.0%} / {row.get('unseen', 0):.0%} / {row.get('held-out task', 0):.0%}",
        )
    page.chart(figures.accuracy_grid(frame), frame, "grid")
    losses = {name: t.token_losses(prompt, response) for name, t in trainers.items()}
    page.chart(figures.token_loss_strip(prompt + response, losses, len(prompt)), None, "token-loss")
    history = run.history_frame()
    page.chart(figures.curves_by_run(history, list(trainers)), history, "instruct-loss")
    prompt_loss = {n: pd.Series(v[1 : len(prompt)]).mean() for n, v in losses.items()}
    st.caption(
        f"After {steps} steps. Mean loss on the prompt's characters: "
        + ", ".join(f"{n} {v:.2f}" for n, v in prompt_loss.items())
        + " nats. With the prompt masked a model is never asked to predict the instruction, so it does not learn "
        "to write instructions; unmasked, part of its updates go to modelling prompts. The runs' losses differ in "
        "what they average over (masked: the response only)."
    )
