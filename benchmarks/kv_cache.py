"""KV-cache benchmarks: decode speed and cache memory of each eviction policy against the full cache, and our
decode loop against transformers' own (a forward per token with its DynamicCache, and generate()).

Teacher-forced, one token per step (chunk 1), budget 20 % of the text. SmolLM2-135M's weights where cached, else
a LlamaForCausalLM with its shapes and random weights (speed does not depend on the weights). Goal (issue 10):
eviction costs no more than 10 % of decode speed against the full cache. Each policy that evicts during decoding
runs twice: pruned before every token, and pruned every 8 tokens to budget - 8 (as kvpress's DecodingPress and
StreamingLLM's loop do; the cache never exceeds the budget either way). SnapKV and PyramidKV compress at prefill
(their papers' way): the first half of the text is the prompt, cut once, and the rest is decoded onto it; their
decode speed is over that second half, the full cache's over the text after its budget-token prefill. benchmarks/kv_cache_before_after.py compares with an older loop.
"""

from __future__ import annotations

import time

import torch

from models.kv_cache.cache import AT_PREFILL, POLICY_NAMES, FullCache, KVCacheConfig, make_policy, run_with_budget


def _model(device: str):
    try:
        from models.registry import load_model

        model, tokenizer = load_model("smollm2", device=device)
        return model, tokenizer, "SmolLM2-135M"
    except Exception:  # noqa: BLE001 - no cached weights on this machine
        from models.registry import random_smollm2

        return random_smollm2(device), None, "random SmolLM2-shaped Llama"


def _ids(tokenizer, length: int) -> list[int]:
    if tokenizer is None:
        return torch.randint(0, 49152, (length,), generator=torch.Generator().manual_seed(0)).tolist()
    from models.corpora import load_corpus_text

    return tokenizer(load_corpus_text("wiki")[: length * 8])["input_ids"][:length]


def _sync(device: str) -> None:
    if device == "cuda":
        torch.cuda.synchronize()


@torch.inference_mode()
def _transformers_decode(model, ids: list[int], prefill: int, device: str) -> float:
    """Tokens/s of transformers' own cached decoding: prefill, then one forward per token."""
    from transformers import DynamicCache

    cache = DynamicCache()
    x = torch.tensor([ids], device=device)
    model(x[:, :prefill], past_key_values=cache, use_cache=True)
    _sync(device)
    start = time.perf_counter()
    for t in range(prefill, len(ids)):
        model(x[:, t : t + 1], past_key_values=cache, use_cache=True)
    _sync(device)
    return (len(ids) - prefill) / (time.perf_counter() - start)


@torch.inference_mode()
def _generate(model, ids: list[int], prefill: int, device: str) -> float:
    new = len(ids) - prefill
    x = torch.tensor([ids[:prefill]], device=device)
    kw = dict(max_new_tokens=new, min_new_tokens=new, do_sample=False, pad_token_id=0)
    model.generate(x, **(kw | {"max_new_tokens": 4, "min_new_tokens": 4}))  # warm-up
    _sync(device)
    start = time.perf_counter()
    model.generate(x, **kw)
    _sync(device)
    return new / (time.perf_counter() - start)


def _row(task, ours, reference, unit, note, ratio=None):
    if ratio is None and reference:
        ratio = ours / reference
    return dict(
        lesson="kv_cache",
        task=task,
        ours=ours,
        reference=reference,
        unit=unit,
        ratio=ratio,
        note=note,
    )


def run(quick: bool = False, device: str = "cpu") -> list[dict]:
    model, tokenizer, name = _model(device)
    length = 96 if quick else 1024
    budget = length // 5
    ids = _ids(tokenizer, length)
    config = KVCacheConfig(budget=budget, n_tokens=length, chunk=1)
    run_with_budget(model, tokenizer, ids[:24], FullCache(), 24, chunk=1, device=device)  # warm-up
    full = run_with_budget(model, tokenizer, ids, FullCache(), length, chunk=1, prefill=budget)
    where = f"{name}, {length} tokens, budget {budget} (20 %), one token per step, {device}"
    rows = [
        _row(
            "full cache: our decode loop vs transformers (forward + DynamicCache per token)",
            full.tokens_per_second,
            _transformers_decode(model, ids, budget, device),
            "tokens/s",
            where,
        ),
        _row(
            "full cache: our decode loop vs transformers generate() (greedy)",
            full.tokens_per_second,
            _generate(model, ids, budget, device),
            "tokens/s",
            where + "; generate samples its own tokens, same count",
        ),
    ]
    for policy_name in POLICY_NAMES:
        policy = make_policy(policy_name, config)
        result = run_with_budget(model, tokenizer, ids, policy, budget, chunk=1, device=device)
        way = f"; prompt of {result.prompt} compressed once at prefill" if result.prompt else ""
        rows.append(
            _row(
                f"{policy_name} vs full cache: decode speed",
                result.tokens_per_second,
                full.tokens_per_second,
                "tokens/s",
                f"{where}{way}; goal ratio >= 0.9; perplexity {result.perplexity:.2f} vs full {full.perplexity:.2f}",
            )
        )
        if policy_name in AT_PREFILL:  # one cut at prefill: nothing to evict every 8 tokens
            rows.append(
                _row(
                    f"{policy_name} vs full cache: peak cache memory",
                    result.cache_bytes / 1e6,
                    full.cache_bytes / 1e6,
                    "MB",
                    f"{where}{way}; measured from the K/V tensors (the prompt is held whole until its cut); "
                    f"at the end {result.final_cache_bytes / 1e6:.2f} MB",
                    ratio=full.cache_bytes / max(result.cache_bytes, 1),
                )
            )
            continue
        batched = run_with_budget(
            model,
            tokenizer,
            ids,
            make_policy(policy_name, config),
            budget,
            1,
            device,
            evict_every=8,
        )
        rows.append(
            _row(
                f"{policy_name} vs full cache: decode speed, evicting every 8 tokens",
                batched.tokens_per_second,
                full.tokens_per_second,
                "tokens/s",
                f"{where}; pruned to budget - 8 every 8 tokens; perplexity {batched.perplexity:.2f}",
            )
        )
        rows.append(
            _row(
                f"{policy_name} vs full cache: peak cache memory",
                result.cache_bytes / 1e6,
                full.cache_bytes / 1e6,
                "MB",
                f"{where}; measured from the K/V tensors",
                ratio=full.cache_bytes / max(result.cache_bytes, 1),
            )
        )
    if quick:
        return rows
    # the page's default comparison (full cache + 4 policies, 256 tokens, budget 48, 8 tokens per step)
    from models.kv_cache.compare import PolicyComparison, comparison_jobs

    page = KVCacheConfig()
    page_ids = _ids(tokenizer, page.n_tokens)
    start = time.perf_counter()
    runs = PolicyComparison(model, tokenizer or _Ids(), page_ids, comparison_jobs(page), page)
    while not runs.done:
        runs.train_steps(8)
    rows.append(
        _row(
            "the page's default comparison (full + 4 policies, 256 tokens, budget 48, 8 per step)",
            time.perf_counter() - start,
            None,
            "s",
            f"{name}, {device}; goal under ~30 s on a CPU",
        )
    )
    if tokenizer is not None:  # the needle tab's default grid (2 lengths x 2 depths x full + 4 policies)
        from models.corpora import load_corpus_text
        from models.kv_cache.needle import NeedleConfig, NeedleSearch, filler_ids

        needle = NeedleConfig()
        start = time.perf_counter()
        search = NeedleSearch(model, tokenizer, filler_ids(tokenizer, load_corpus_text("wiki")), needle)
        while not search.done:
            search.train_steps(8)
        found = {p: sum(r["found"] for r in search.rows if r["policy"] == p) for p in search.jobs_policies}
        rows.append(
            _row(
                f"the needle tab's default grid ({needle.runs} runs: lengths {needle.needle_lengths}, "
                f"depths {needle.needle_depths} %, budget {needle.budget})",
                time.perf_counter() - start,
                None,
                "s",
                f"{name}, {device}; goal ~60 s on a CPU; found per policy {found}",
            )
        )
    return rows


class _Ids:
    """Stand-in tokenizer for random weights: tokens are their ids."""

    def convert_ids_to_tokens(self, ids):
        return [str(i) for i in ids]
