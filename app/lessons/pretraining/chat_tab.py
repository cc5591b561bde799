"""Tab "Chat template": the exact tokens SmolLM2-Instruct reads, and its answer with the template against without."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from app.lessons.pretraining import figures
from app.page import LessonPage
from app.resources import load_shared_model
from models.pretraining.chat import (
    chat_text,
    chat_tokens,
    self_instruct_prompt,
    template_against_plain,
)

TITLE = "Chat template"
QUESTION = "What is the capital of France?"
MODEL_NOTE = (
    "SmolLM2-135M-Instruct as bundled here: the Q4_1 GGUF file, dequantised to float32 (4-bit weights, not the "
    "full-precision release)."
)


def conversation(system: str, user: str) -> list[dict]:
    turns = [{"role": "system", "content": system}] if system.strip() else []
    return turns + [{"role": "user", "content": user}]


def read_template(tokenizer, turns: list[dict]) -> tuple[list[dict], list[dict], str]:
    return turns, chat_tokens(tokenizer, turns), chat_text(tokenizer, turns)


def render(page: LessonPage) -> None:
    with page.settings_area():
        cols = st.columns(2)
        page.widget(cols[0].text_input, "system", "System message (optional)", default="", max_chars=500)
        page.widget(cols[1].text_input, "question", "User turn", default=QUESTION, max_chars=500)
    model, tokenizer = page.compute("model", "Loading SmolLM2", load_shared_model, "smollm2", page.device) or (
        None,
        None,
    )
    if tokenizer is None:
        return
    st.caption(MODEL_NOTE)
    asked = conversation(page.value("system", ""), page.value("question", QUESTION))
    templated = page.compute("template", "Applying the chat template", read_template, tokenizer, asked)
    if templated is None:
        return
    turns, tokens, text = templated  # the last conversation that worked, when this one does not
    st.markdown(
        f"**What the model reads**: `apply_chat_template(..., add_generation_prompt=True)`, {len(tokens)} tokens."
    )
    st.code(text, language=None)
    frame = pd.DataFrame(tokens)
    question_tokens = len(tokenizer(turns[-1]["content"])["input_ids"])
    st.metric("tokens the template adds around the conversation's text", f"{len(tokens) - question_tokens}")
    results = page.compute(
        "next-token",
        "Reading the next token",
        template_against_plain,
        model,
        tokenizer,
        turns[-1]["content"],
        max_new_tokens=0,
    )
    if results is not None:
        page.chart(*figures.next_token_bars(results), name="next-token")
    with st.expander(f"The {len(tokens)} tokens, one by one"):
        page.table(frame, hide_index=True, width="stretch")
    if st.button("Generate both greedy answers (30 tokens each)", key=page.state_key("answer-button")):
        answers = page.compute(
            "answers", "Generating", template_against_plain, model, tokenizer, turns[-1]["content"], 8, 30
        )
        if answers is not None:
            page.keep("answers-shown", (turns[-1]["content"], answers))
    shown = page.result("answers-shown")
    if shown is not None:
        question, answers = shown
        st.markdown(f"**Greedy answers** to “{question}”:")
        for name, result in answers.items():
            st.text(f"{name:>14}: {result['answer']!r}")
        st.caption("With the template the model answers; as plain text it continues a document.")
    st.divider()
    st.markdown(
        "**Synthetic instructions** (Self-Instruct): show the model a few instructions and ask for a new one. "
        "What a 135M model writes is often close to the examples; large models grow whole data sets this way."
    )
    if st.button("Ask SmolLM2 for a new instruction", key=page.state_key("self-instruct-button")):
        request = self_instruct_prompt()
        ids = [t["id"] for t in chat_tokens(tokenizer, request)]
        from models.pretraining.chat import next_token_and_answer

        made = page.compute("made", "Generating", next_token_and_answer, model, tokenizer, ids, 1, 40)
        if made is not None:
            page.keep("self-instruct", (request[0]["content"], made["answer"]))
    made = page.result("self-instruct")
    if made is not None:
        st.text(made[0])
        st.markdown(f"SmolLM2 (greedy): *{made[1].strip()}*")
