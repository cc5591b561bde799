"""KV cache and eviction: one module per tab; `controls` builds what they share (config, text ids, model)."""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from app.lessons.kv_cache import compare_tab, kept_tab, memory_tab, needle_tab, sweep_tab
from app.page import LessonPage, Preset
from app.resources import load_shared_model, shared_corpus_text
from models.kv_cache.cache import POLICY_NAMES, KVCacheConfig
from models.text import check_text

INTRO = (
    "A causal LM stores every token's **keys and values** in every layer (the **KV cache**), so a new token "
    "computes only its own: memory for speed. The cache grows as 2 × layers × KV heads × head size × tokens "
    "× bytes, and at long context it fills the GPU. **Eviction** keeps a budget of tokens per layer and head: "
    "the most recent (a window), the first few too (**StreamingLLM**'s attention sinks), the most attended "
    "(**H2O**, **SnapKV**, **PyramidKV** with a budget per layer) or the least redundant (**R-KV**). Below, "
    "SmolLM2-135M reads a text token by token (teacher forcing) with its cache pruned to the budget before "
    "every step, so no query ever sees more than the budget."
)

SHORT_TEXT_CHARS = 8  # characters of text read per token wanted (English: ~4-5 per token)


@dataclass
class Shared:
    config: KVCacheConfig
    ids: list[int]
    model: object
    tokenizer: object
    run_settings: dict  # what a run is built from (the kit starts a new run when it changes)


PRESETS = {
    "Lecture demo: attention sinks": Preset(
        "Window-only attention blows up once the first token leaves the cache; keeping 4 sink tokens "
        "brings perplexity back near the full cache (press Start).",
        tab=compare_tab.TITLE,
        values={"policies": ["Window", "StreamingLLM"], "budget": 32},
    ),
    "Lecture demo: one sink is enough": Preset(
        "A single sink token works about as well as four (press Start).",
        tab=compare_tab.TITLE,
        values={"policies": ["Window", "StreamingLLM"], "budget": 32, "sinks": 1},
    ),
    "Lecture demo: PyramidKV's budgets": Preset(
        "PyramidKV keeps more tokens in the lower layers and fewer above, same total as SnapKV (press Start).",
        tab=kept_tab.TITLE,
        values={"policies": ["SnapKV", "PyramidKV"], "budget": 48},
    ),
    "Lecture demo: a 3B model at 1M tokens": Preset(
        "Llama-3.2-3B's cache at a million tokens in bfloat16: about 115 GB, more than its weights × 15.",
        tab=memory_tab.TITLE,
        values={"calc_model": "Llama-3.2-3B", "calc_tokens": 1_000_000},
    ),
    "Lecture demo: needle in a haystack": Preset(
        "A number planted early in the text: the full cache finds it, every policy at a budget of 48 loses "
        "it once it falls out of the cache (press Start).",
        tab=needle_tab.TITLE,
        values={"policies": ["StreamingLLM", "H2O", "SnapKV"], "budget": 48},
    ),
}
TABS = [compare_tab, kept_tab, sweep_tab, needle_tab, memory_tab]


def _text_ids(tokenizer, source: str, user_text: str, n_tokens: int) -> list[int]:
    if source == "user":
        text = (user_text or "").strip()
        if not text:
            raise ValueError("Paste a text first (a few paragraphs: the cache matters on long texts).")
        text = check_text(text)  # binary-looking or oversized text is refused with a message
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
            ["wiki", "user"],
            default="wiki",
            format_func={"wiki": "Wikipedia sample", "user": "Your own text"}.get,
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
        name: page.value(name) for name in ("source", "n_tokens", "budget", "policies", "chunk", "sinks", "window")
    } | {"text_tokens": len(ids), "text_hash": hash(tuple(ids))}
    return Shared(config, ids, model, tokenizer, run_settings)
