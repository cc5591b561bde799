"""Tab "Memory": the cache's bytes measured beside the formula, fewer bits against fewer tokens, a calculator."""

from __future__ import annotations

import json
from dataclasses import replace

import pandas as pd
import streamlit as st

from app.lessons.kv_cache import figures
from app.lessons.kv_cache.compare_tab import runs_results
from app.page import LessonPage
from models.kv_cache.cache import cache_bytes_formula
from models.kv_cache.compare import Job, PolicyComparison

TITLE = "Memory"


def _dims(model) -> tuple[int, int, int]:
    return figures.config_dims(model.config.to_dict())


def measured_table(results: dict, model) -> pd.DataFrame:
    layers, kv_heads, head_dim = _dims(model)
    element = next(model.parameters()).element_size()
    rows = []
    for name, r in results.items():
        tokens = min(r.budget, len(r.loss_per_position) + 1)
        rows.append(
            {
                "run": name,
                "cache bytes (measured, peak)": r.cache_bytes,
                "formula": int(cache_bytes_formula(layers, kv_heads, head_dim, tokens, element)),
                "formula, whole text": r.full_cache_bytes,
                "× a bf16 full cache": round(
                    bf16_bytes(name, r, element) / (r.full_cache_bytes / element * figures.BASELINE_BYTES), 3
                ),
                "decode tokens/s": round(r.tokens_per_second, 1),
            }
        )
    return pd.DataFrame(rows)


def quant_jobs(length: int, smallest: int) -> list[Job]:
    """Full cache at 16/8/4 bits; eviction at T/2 and T/4 tokens (about the bytes of int8 and int4 against a bf16
    cache) where that leaves a usable budget."""
    jobs = [Job("Full cache", length), Job("Full cache", length, 8), Job("Full cache", length, 4)]
    for policy in ("StreamingLLM", "H2O"):
        jobs += [Job(policy, b) for b in (length // 2, length // 4) if b >= smallest]
    return jobs


def bf16_bytes(label: str, result, element: int) -> float:
    """A run's peak cache bytes as a bf16 cache would hold them (a quantised run's codes and scales as stored)."""
    return result.cache_bytes if label.endswith("-bit") else result.cache_bytes * figures.BASELINE_BYTES / element


def make_quant(shared) -> PolicyComparison:
    config = replace(shared.config, chunk=min(shared.config.chunk, 8))  # room for a budget of T/4
    jobs = quant_jobs(len(shared.ids), smallest=config.sinks + 1 + config.chunk)
    return PolicyComparison(shared.model, shared.tokenizer, shared.ids, jobs, config, keep_masks=False)


def render(page: LessonPage) -> None:
    shared = page.data
    layers, kv_heads, head_dim = _dims(shared.model)
    element = next(shared.model.parameters()).element_size()
    base = figures.BASELINE_BYTES
    st.markdown(
        f"**SmolLM2-135M** (its Q4_1 GGUF, dequantised): {layers} layers × {kv_heads} KV heads × head size "
        f"{head_dim}. In bfloat16, the usual cache dtype and the baseline of every ratio below: 2 × {layers} × "
        f"{kv_heads} × {head_dim} × {base:g} B = **{2 * layers * kv_heads * head_dim * base / 1024:.0f} KiB per "
        f"token**. This page computes in {element * 8}-bit floats, so the bytes it measures are "
        f"{element / base:g} × that."
    )
    results = runs_results(page)
    if results:
        table = measured_table(results, shared.model)
        page.table(table, hide_index=True, width="stretch")
        st.caption(
            "Measured: the sum of the cached K and V tensors' bytes at their largest during the run (in this "
            "page's float32); the formula uses the budget (every policy fills it; a prompt compressed at prefill "
            "is held whole until its cut). The ratio: those tokens in bf16 against a bf16 cache of the whole text. "
            "Tokens per second: the decode steps only, the same steps for every run."
        )
    else:
        st.caption("Press ▶ Start in “Compare policies” to measure each policy's cache here.")
    _quantised(page, shared)
    _calculator(page, shared)


def _quantised(page: LessonPage, shared) -> None:
    st.subheader("Fewer bits per value, or fewer tokens?")
    st.markdown(
        "KIVI stores keys per channel and values per token in 8 or 4 bits (a float16 scale and zero per "
        "group); the last keys of an unfinished group of 32 stay exact. Against a bf16 cache, 8 bits is about "
        "½ of the bytes and 4 bits about ¼; beside them, eviction to ½ and ¼ of the tokens. The table gives "
        "each run's bytes as a share of a bf16 full cache."
    )
    runs = page.compute("quant", "Preparing the runs", make_quant, shared)
    if runs is None:
        return
    page.train(
        run="quant",
        factory=lambda: make_quant(shared),
        total_steps=runs.total_steps,
        settings=shared.run_settings,
        render=lambda run: _draw_quant(page, run.trainer),
        device=page.device,
        label="bits vs tokens",
    )


def _draw_quant(page: LessonPage, runs: PolicyComparison) -> None:
    if not runs.done:
        st.caption(f"Running: {runs.current()}")
    if not runs.results:
        return
    table = figures.summary_table(runs.results)[["run", "perplexity", "× full cache"]]
    element = next(page.data.model.parameters()).element_size()
    bf16 = [bf16_bytes(name, r, element) for name, r in runs.results.items()]
    whole = next(iter(runs.results.values())).full_cache_bytes / element * figures.BASELINE_BYTES
    table["cache bytes (bf16 or as stored)"] = [int(b) for b in bf16]
    table["× a bf16 full cache"] = [round(b / whole, 3) for b in bf16]
    page.table(table, hide_index=True, width="stretch")


def _calculator(page: LessonPage, shared) -> None:
    st.subheader("Calculator: other models")
    options = ["SmolLM2-135M"] + list(figures.KNOWN_CONFIGS) + ["paste"]
    cols = st.columns(3)
    with cols[0]:
        name = page.widget(
            st.selectbox,
            "calc_model",
            "Model",
            options,
            default="Llama-3.1-8B",
            format_func=lambda o: "Paste a config.json…" if o == "paste" else o,
        )
    with cols[1]:
        tokens = page.widget(
            st.number_input,
            "calc_tokens",
            "Tokens in context",
            1,
            10_000_000,
            default=32_768,
            step=1024,
        )
    with cols[2]:
        dtype = page.widget(
            st.selectbox,
            "calc_dtype",
            "Bytes per value",
            list(figures.DTYPE_BYTES),
            default="bfloat16 / float16",
        )
    dims = page.compute("calc-dims", "Reading the config", _calc_dims, page, name, shared)
    if dims is None:
        return
    layers, kv_heads, head_dim = dims
    gb = cache_bytes_formula(layers, kv_heads, head_dim, tokens, figures.DTYPE_BYTES[dtype]) / 1e9
    st.metric(f"KV cache of {name} at {tokens:,} tokens", f"{gb:,.1f} GB")
    st.caption(
        f"2 × {layers} layers × {kv_heads} KV heads × {head_dim} × {tokens:,} tokens × "
        f"{figures.DTYPE_BYTES[dtype]:g} B, for one sequence (a batch multiplies it)."
    )
    curves = {n: figures.KNOWN_CONFIGS[n] for n in ("Llama-3.2-3B", "Llama-3.1-8B", "Llama-3.1-70B")}
    if name not in curves:
        curves = {f"{name} (chosen)": dims} | curves
    page.chart(figures.memory_curve(curves, figures.DTYPE_BYTES[dtype]), None, "calculator")


def _calc_dims(page: LessonPage, name: str, shared) -> tuple[int, int, int]:
    if name == "SmolLM2-135M":
        return _dims(shared.model)
    if name != "paste":
        return figures.KNOWN_CONFIGS[name]
    text = page.widget(st.text_area, "calc_config", "config.json", default="", url=False, height=120)
    if not text.strip():
        raise ValueError("Paste a model's config.json (from its Hugging Face page, Files tab).")
    try:
        config = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"That is not valid JSON: {exc.msg} at line {exc.lineno}.") from exc
    if not isinstance(config, dict):
        raise ValueError("A config.json is one JSON object {...}.")
    return figures.config_dims(config.get("text_config", config))
