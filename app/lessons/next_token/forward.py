"""The next-token explorer's work: load the model, sample what was asked, run one forward pass.

The sampled continuation belongs to one (model, device, prompt, chat) source; a new source starts afresh. The
forward pass is reused while its token ids are unchanged, so a sampling slider only re-filters the logits.
"""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from app.page import shared
from app.resources import load_shared_model
from models.next_token.sampling import (
    NextTokenResult,
    SamplingConfig,
    encode_prompt,
    next_token,
    sample_continuation,
    token_pieces,
)
from models.registry import context_length, model_kind

DEFAULT_PROMPT = "The capital of France is"
CPU_TOKEN_LIMIT = 1024  # the app's cap on the CPU (prompt + continuation): eager attention is slow there


@dataclass
class Prediction:
    """What the tabs draw (page.data): the last forward pass that worked and how it was made."""

    result: NextTokenResult  # token ids, pieces, next-token logits, loss, seconds
    n_prompt: int  # how many of result.token_ids are the prompt (the rest were sampled)
    config: SamplingConfig  # the sampling settings to filter the logits with
    tokenizer: object
    model_name: str
    device: str
    prompt: str


def load_causal_lm(name: str, device: str, allow_download: bool):
    model, tokenizer = load_shared_model(name, device, allow_download)
    if model_kind(model) != "causal":
        raise ValueError(f"{name} is an encoder; next-token prediction needs a causal language model.")
    return model, tokenizer


def token_limit(model, tokenizer, device: str) -> tuple[int, str]:
    """The longest prompt + continuation read here, and a sentence saying whose limit it is."""
    model_limit = context_length(model, tokenizer)
    if device == "cpu" and model_limit > CPU_TOKEN_LIMIT:
        return CPU_TOKEN_LIMIT, (
            f"on the CPU this app reads at most {CPU_TOKEN_LIMIT:,} (its cap to keep a forward pass "
            f"quick; the model itself reads {model_limit:,})"
        )
    return model_limit, f"this model reads at most {model_limit:,}"


def continuation(page, source: tuple) -> list[dict]:
    """The sampled tokens of this source (a new model, prompt or template starts afresh)."""
    if page.result("source") != source:
        page.keep("source", source)
        page.keep("continuation", [])
    return page.result("continuation")


def request(page, action) -> None:
    """on_click of Sample 1 / Sample 10 / Undo / Clear: done on the next run, before the forward pass."""
    page.keep("request", action)


def forward_pass(model_name: str, device: str, ids: tuple, max_context: int, _model, _tokenizer):
    """One forward pass of the model named by the arguments over `ids` (the next-token result)."""
    return next_token(_model, _tokenizer, list(ids), max_context)


def predict(page, model, tokenizer, source: tuple, config: SamplingConfig) -> Prediction:
    model_name, device, prompt, chat = source
    action = page.forget("request")  # asked for on the last click
    prompt_ids = encode_prompt(tokenizer, prompt, chat)
    max_context, whose = token_limit(model, tokenizer, device)
    if len(prompt_ids) > max_context:
        raise ValueError(f"The prompt is {len(prompt_ids):,} tokens long; {whose}. Shorten the prompt.")
    sampled = continuation(page, source)
    if action == "undo" and sampled:
        sampled.pop()
    elif action == "clear":
        sampled.clear()
    elif isinstance(action, int):
        ids = prompt_ids + [c["id"] for c in sampled]
        if len(ids) + action > max_context:
            raise ValueError(
                f"Prompt and continuation would be {len(ids) + action:,} tokens; {whose}. Clear the "
                "continuation or shorten the prompt."
            )
        with st.spinner(f"Sampling {action} token(s) with {model_name}…"):
            new = sample_continuation(model, ids, config, action, max_context, tokenizer.eos_token_id, len(sampled))
        for tok in new:
            sampled.append(
                {
                    "id": tok.token_id,
                    "piece": token_pieces(tokenizer, [tok.token_id])[0],
                    "p_final": tok.p_final,
                    "p_raw": tok.p_model,
                    "candidates": tok.n_candidates,
                }
            )
    ids = prompt_ids + [c["id"] for c in sampled]
    last = page.result("forward")
    if last is not None and last.model_name == model_name and last.device == device and (last.result.token_ids == ids):
        result = last.result  # same input: reuse the logits, only the filters changed
    else:
        with st.spinner(f"Running {model_name} on {len(ids):,} tokens ({device})…"):
            if prompt == DEFAULT_PROMPT and not sampled:  # what every student's first view computes
                result = shared(
                    forward_pass,
                    model_name,
                    device,
                    tuple(ids),
                    max_context,
                    _model=model,
                    _tokenizer=tokenizer,
                    read_only=True,
                )
            else:  # a student's own text stays in their session
                result = forward_pass(model_name, device, tuple(ids), max_context, model, tokenizer)
    return Prediction(result, len(prompt_ids), config, tokenizer, model_name, device, prompt)
