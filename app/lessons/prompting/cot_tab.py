"""Tab "Chain of thought": arithmetic word problems answered directly, by a greedy chain of thought, and by a
self-consistency vote over N sampled chains (one problem per step)."""

import pandas as pd
import streamlit as st

from app.lessons.prompting import figures, work
from app.page import LessonPage
from models.prompting.chain_of_thought import CoTConfig, CoTRun, cot_prompt, majority

TITLE = "Chain of thought"


def render(page: LessonPage) -> None:
    setup: work.Setup = page.data
    st.markdown(
        "A chain-of-thought prompt shows worked examples that spell out the steps; the model imitates them. "
        "Self-consistency samples N chains and takes the majority answer. SmolLM2-135M copies the *form* of the "
        "steps well and the arithmetic poorly (sums of small numbers mostly, products rarely): chain of thought is "
        "an ability of larger models (Wei et al. 2022). Pick a larger causal model from your Hugging Face cache in "
        "the settings above (**Model and data size**) to compare."
    )
    with page.settings_area():
        a, b, c, d = st.columns(4)
        page.widget(a.slider, "problems", "Problems", 1, 50, default=12)
        page.widget(b.slider, "chains", "Sampled chains N", 1, 16, default=5)
        page.widget(c.slider, "temperature", "Temperature of the chains", 0.1, 1.5, step=0.1, default=0.7)
        page.widget(d.slider, "worked_examples", "Worked examples", 0, 4, default=2)
    config = page.config(CoTConfig, "The chain-of-thought settings")
    if config is None:
        return
    with st.expander("The chain-of-thought prompt of a problem"):
        st.code(cot_prompt("<the problem>", config.worked_examples, chain=True), language=None)

    def draw(run) -> None:
        trainer: CoTRun = run.trainer
        if not trainer.solved:
            st.info("Press ▶ Start: each step solves one problem three ways (about 10-30 s per problem on a CPU).")
            return
        page.chart(*figures.cot_figure(trainer.metrics(), trainer.accuracy_by_chains()), name="cot")
        page.table(
            pd.DataFrame(
                {
                    "problem": [s.question for s in trainer.solved],
                    "answer": [s.answer for s in trainer.solved],
                    "direct": [s.direct for s in trainer.solved],
                    "greedy chain": [s.greedy_chain for s in trainer.solved],
                    "chain's answer": [s.greedy for s in trainer.solved],
                    "sampled answers": [", ".join(map(str, s.votes)) for s in trainer.solved],
                    "vote": [majority(s.votes) for s in trainer.solved],
                }
            ),
            hide_index=True,
            width="stretch",
        )

    page.train(
        lambda: CoTRun(setup.model, setup.tokenizer, config), total_steps=config.problems, render=draw, run="cot",
        label="chain of thought",
    )  # fmt: skip
