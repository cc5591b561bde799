"""KV cache and eviction: one module per tab; `controls` builds what they share (config, text ids, model)."""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from app.lessons.kv_cache import compare_tab, kept_tab, memory_tab, needle_tab, sweep_tab
from app.page import LessonPage, Preset
from app.resources import load_shared_model, shared_corpus_text
from models.kv_cache.cache import POLICY_NAMES, KVCacheConfig
from models.kv_cache.reasoning import reasoning_trace
from models.text import check_text

INTRO = (
    "A causal LM stores every token's **keys and values** in every layer (the **KV cache**), so a new token "
    "computes only its own: memory for speed. The cache grows as 2 × layers × KV heads × head size × tokens "
    "× bytes, and at long context it fills the GPU. Two ways hold it to a budget of tokens per layer and KV head. "
    "**Eviction during decoding** prunes the cache each time it overflows while the text streams: keep the most "
    "recent (a window), the first few too (**StreamingLLM**'s attention sinks), the most attended (**H2O**) or "
    "the important and not redundant (**R-KV**, made for long reasoning traces). **Compression at prefill** "
    "reads the whole prompt first, lets its last tokens (the question) score every earlier token, and cuts the "
    "cache **once** before decoding: **SnapKV**, and **PyramidKV** with more tokens in the lower layers; their "
    "streaming variants re-score at every overflow instead. Below, SmolLM2-135M (its Q4_1 GGUF, dequantised: "
    "not a full-precision model) reads a text teacher-forced, a step of 8 tokens at a time by default (1 = token "
    "by token), with its cache held to the budget."
)

SHORT_TEXT_CHARS = 8  # characters of text read per token wanted (English: ~4-5 per token)
SOURCES = {
    "wiki": "Wikipedia sample",
    "reasoning": "A repetitive reasoning trace (R-KV's setting)",
    "user": "Your own text",
}


@dataclass
class Shared:
    config: KVCacheConfig
    ids: list[int]
    model: object
    tokenizer: object
    run_settings: dict  # what a run is built from (the kit starts a new run when it changes)
    source: str = "wiki"  # a name from SOURCES


# What each preset's tooltip claims, measured by the page on SmolLM2-135M (Q4_1 GGUF, dequantised), CPU, one torch
# thread; tests/pages/test_kv_cache_page.py applies each preset on a fresh page, runs it and asserts these numbers.
CLAIMS = {
    "sinks": {"Full cache": 22.8, "Window @ 32": 283.1, "StreamingLLM @ 32": 25.4},  # perplexity, 256 tokens
    "one sink": {"Full cache": 22.8, "Window @ 32": 283.1, "StreamingLLM @ 32": 29.2},
    "pyramid": {"prompt": 128, "bottom": 84, "top": 12, "mean": 48},  # PyramidKV's per-layer budgets
    "needle": {  # 256 tokens, needles at 10 % and 50 %, 2 each, budget 48: found of 4, digits held (% of caches)
        "Full cache": (4, 100, 100),
        "SnapKV": (2, 8, 32),
        "SnapKV (streaming)": (0, 0, 0),
    },
    "rkv": {"Full cache": 4.3, "R-KV @ 48": 6.7, "SnapKV (streaming) @ 48": 7.0, "H2O @ 48": 5.9},  # perplexity
    "memory": 114.7,  # GB, Llama-3.2-3B at 1M tokens in bf16
}
_N = CLAIMS["needle"]
PRESETS = {
    "Lecture demo: attention sinks": Preset(
        f"Window-only attention: perplexity {CLAIMS['sinks']['Window @ 32']} once the first token leaves the cache; "
        f"4 sink tokens bring it to {CLAIMS['sinks']['StreamingLLM @ 32']}, near the full cache's "
        f"{CLAIMS['sinks']['Full cache']} (256 tokens, budget 32; press Start).",
        tab=compare_tab.TITLE,
        values={"policies": ["Window", "StreamingLLM"], "budget": 32},
    ),
    "Lecture demo: one sink is not quite four": Preset(
        f"A single sink token recovers most of the loss, not all: perplexity {CLAIMS['one sink']['StreamingLLM @ 32']}"
        f" against {CLAIMS['sinks']['StreamingLLM @ 32']} with four sinks (the demo before) and "
        f"{CLAIMS['one sink']['Full cache']} for the full cache (256 tokens, budget 32; press Start).",
        tab=compare_tab.TITLE,
        values={"policies": ["Window", "StreamingLLM"], "budget": 32, "sinks": 1},
    ),
    "Lecture demo: PyramidKV's budgets": Preset(
        f"PyramidKV cuts a {CLAIMS['pyramid']['prompt']}-token prompt to {CLAIMS['pyramid']['bottom']} tokens per "
        f"KV head in layer 0, down to {CLAIMS['pyramid']['top']} in layer 29: {CLAIMS['pyramid']['mean']} on average, "
        "the same total as SnapKV (drawn at once; press Start to see what each keeps).",
        tab=kept_tab.TITLE,
        values={"policies": ["SnapKV", "PyramidKV"], "budget": 48},
    ),
    "Lecture demo: a 3B model at 1M tokens": Preset(
        f"Llama-3.2-3B's cache at a million tokens in bfloat16: {CLAIMS['memory']} GB for one sequence.",
        tab=memory_tab.TITLE,
        values={"calc_model": "Llama-3.2-3B", "calc_tokens": 1_000_000},
    ),
    "Lecture demo: needle in a haystack": Preset(
        "SnapKV as its paper runs it (the prompt compressed once, the question in its observation window) kept "
        f"the needle's digits in {_N['SnapKV'][1]}-{_N['SnapKV'][2]} % of the layer × KV-head caches and found "
        f"{_N['SnapKV'][0]} of 4 needles; streamed, re-scoring at every overflow, it kept them in none and found "
        f"{_N['SnapKV (streaming)'][0]} of 4; the full cache found {_N['Full cache'][0]} (256 tokens, budget 48; "
        "press Start).",
        tab=needle_tab.TITLE,
        values={
            "policies": ["SnapKV", "SnapKV (streaming)"],
            "budget": 48,
            "needle_lengths": [256],
            "needle_depths": [10, 50],
            "needle_trials": 2,
        },
    ),
    "Lecture demo: R-KV on a reasoning trace": Preset(
        "A trace that re-checks every step: R-KV (importance minus redundancy) reaches perplexity "
        f"{CLAIMS['rkv']['R-KV @ 48']} against SnapKV streamed {CLAIMS['rkv']['SnapKV (streaming) @ 48']}; H2O "
        f"does better still here ({CLAIMS['rkv']['H2O @ 48']}); full cache {CLAIMS['rkv']['Full cache']} (256 "
        "tokens, budget 48; press Start).",
        tab=compare_tab.TITLE,
        values={"source": "reasoning", "policies": ["H2O", "R-KV", "SnapKV (streaming)"], "budget": 48},
    ),
}
TABS = [compare_tab, kept_tab, sweep_tab, needle_tab, memory_tab]


def _text_ids(tokenizer, source: str, user_text: str, n_tokens: int) -> list[int]:
    if source == "user":
        text = (user_text or "").strip()
        if not text:
            raise ValueError("Paste a text first (a few paragraphs: the cache matters on long texts).")
        text = check_text(text)  # binary-looking or oversized text is refused with a message
    elif source == "reasoning":
        text = reasoning_trace()
    else:
        text = shared_corpus_text("wiki")[: n_tokens * SHORT_TEXT_CHARS]
    ids = tokenizer(text[: n_tokens * 40])["input_ids"][:n_tokens]
    if len(ids) < 16:
        raise ValueError(f"The text has {len(ids)} tokens; use at least 16.")
    return ids


def controls(page: LessonPage):
    left, middle, right = st.columns(3)
    with left:
        page.widget(
            st.selectbox,
            "source",
            "Text",
            list(SOURCES),
            default="wiki",
            format_func=SOURCES.get,
        )
        if page.value("source") == "user":
            page.widget(st.text_area, "user_text", "Your text", default="", url=False, height=100)
        page.widget(
            st.slider,
            "n_tokens",
            "Tokens of text",
            32,
            2048,
            default=256,
            step=32,
            help="SmolLM2 on a laptop CPU decodes ~50-150 tokens/s here; the comparison runs each policy.",
        )
    with middle:
        page.widget(
            st.slider,
            "budget",
            "Budget (tokens per layer and KV head)",
            8,
            1024,
            default=48,
            help="Every query attends to at most this many cached tokens.",
        )
        page.widget(
            st.multiselect,
            "policies",
            "Policies (the full cache always runs)",
            POLICY_NAMES,
            default=["Window", "StreamingLLM", "H2O", "SnapKV"],
        )
    with right:
        page.widget(
            st.slider,
            "chunk",
            "Tokens per decode step",
            1,
            32,
            default=8,
            help="The cache is pruned before each step to budget − this; 1 = token by token (slow).",
        )
        page.widget(st.slider, "sinks", "StreamingLLM sink tokens", 0, 16, default=4)
        page.widget(st.slider, "window", "Observation window (SnapKV, PyramidKV, R-KV)", 1, 32, default=8)
        page.widget(
            st.slider,
            "prompt_share",
            "Prompt that SnapKV / PyramidKV compress once (% of the text)",
            10,
            90,
            default=50,
            step=10,
            help="Compression at prefill: this much of the text is read at once and cut to the budget once; "
            "the rest is decoded with the cache growing from there. The streaming variants ignore it.",
        )
    config = page.config(KVCacheConfig, "The cache settings")
    if config is None:
        return None
    model, tokenizer = load_shared_model("smollm2", page.device)
    ids = page.compute(
        "ids",
        "Reading the text",
        _text_ids,
        tokenizer,
        page.value("source", "wiki"),
        page.value("user_text", ""),
        config.n_tokens,
    )
    if ids is None:
        return None
    run_settings = {
        name: page.value(name)
        for name in ("source", "n_tokens", "budget", "policies", "chunk", "sinks", "window", "prompt_share")
    } | {"text_tokens": len(ids), "text_hash": hash(tuple(ids))}
    return Shared(config, ids, model, tokenizer, run_settings, page.value("source", "wiki"))
