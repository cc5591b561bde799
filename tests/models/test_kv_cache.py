"""The KV-cache lesson's models against references.

- The full cache equals transformers' own forward pass (same losses), on a tiny Llama and on SmolLM2.
- A window / sinks + window policy equals one transformers forward with an explicit attention mask that hides the
  evicted tokens (positions kept).
- Every policy with a budget covering the text equals the full cache.
- The positions SnapKV, StreamingLLM, H2O, PyramidKV and R-KV keep equal those of the original scorers, transcribed
  below from kvpress (NVIDIA/kvpress, kvpress/presses/*.py; kvpress pins transformers < 5.3 so it cannot be
  installed here) and from H2O's reference code (FMInference/H2O, h2o_hf/utils_real_drop).
- Compression at prefill (SnapKV, PyramidKV as their papers run them): after the prompt's forward, the positions
  each layer and KV head keeps equal kvpress's SnapKV / PyramidKV scoring of transformers' own keys and queries for
  that prompt; the losses of the decoded continuation equal transformers' forward with a per-layer, per-head mask
  that hides the cut prompt tokens; and nothing is evicted after the cut.
- Cache bytes equal the tensors' sizes and the formula; KIVI quantisation round-trips within half a step.
"""

import math

import pytest
import torch
import torch.nn.functional as F
from transformers import LlamaConfig, LlamaForCausalLM

from models.kv_cache.cache import (
    H2O,
    RKV,
    BudgetDecoder,
    FullCache,
    KVCacheConfig,
    PyramidKV,
    SlidingWindow,
    SnapKV,
    StreamingLLM,
    cache_bytes_formula,
    run_with_budget,
)
from models.kv_cache.policies import LayerView, layer_budgets
from models.kv_cache.quant import dequantize, quantize, quantize_keys, quantize_values


@pytest.fixture(scope="module")
def tiny():
    torch.manual_seed(0)
    config = LlamaConfig(
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        vocab_size=97,
        max_position_embeddings=256,
        attn_implementation="eager",
    )
    model = LlamaForCausalLM(config).eval()
    ids = torch.randint(0, 97, (60,), generator=torch.Generator().manual_seed(1)).tolist()
    return model, ids


def reference_losses(model, ids, visible=None):
    """transformers' forward; `visible` (T, T) bool hides keys from queries (True = may attend)."""
    mask = None
    if visible is not None:
        mask = torch.zeros(visible.shape).masked_fill(~visible, float("-inf"))[None, None]
    with torch.no_grad():
        logits = model(torch.tensor([ids]), attention_mask=mask).logits[0]
    return F.cross_entropy(logits[:-1], torch.tensor(ids[1:]), reduction="none")


def band(length, budget, sinks=0):
    """Query t sees the sinks and the last budget - sinks tokens up to itself."""
    i = torch.arange(length)
    causal = i[None, :] <= i[:, None]
    recent = i[None, :] > i[:, None] - (budget - sinks)
    return causal & (recent | (i[None, :] < sinks))


@pytest.mark.parametrize("chunk", [1, 7])
def test_full_cache_equals_transformers_forward(tiny, chunk):
    model, ids = tiny
    result = run_with_budget(model, None, ids, FullCache(), budget=len(ids), chunk=chunk)
    assert torch.allclose(torch.tensor(result.loss_per_position), reference_losses(model, ids), atol=1e-5)


def test_token_by_token_decoding_equals_transformers_forward(tiny):
    model, ids = tiny
    result = run_with_budget(model, None, ids, FullCache(), budget=len(ids), chunk=1, prefill=1)
    assert len(result.kept_steps) == len(ids)
    losses = torch.tensor(result.loss_per_position)
    assert torch.allclose(losses, reference_losses(model, ids), atol=1e-5)


def test_full_cache_equals_transformers_on_smollm2(smollm2):
    model, tokenizer = smollm2
    text = "The key and value cache stores one entry per token and layer, so memory grows with length."
    ids = tokenizer(text)["input_ids"]
    result = run_with_budget(model, tokenizer, text, FullCache(), budget=4, chunk=5)
    assert torch.allclose(torch.tensor(result.loss_per_position), reference_losses(model, ids), atol=1e-4)
    assert result.tokens == tokenizer.convert_ids_to_tokens(ids)


@pytest.mark.parametrize("budget", [8, 16])
def test_window_equals_a_banded_attention_mask(tiny, budget):
    model, ids = tiny
    result = run_with_budget(model, None, ids, SlidingWindow(), budget=budget, chunk=1)
    ref = reference_losses(model, ids, band(len(ids), budget))
    assert torch.allclose(torch.tensor(result.loss_per_position), ref, atol=1e-5)
    assert not torch.allclose(ref, reference_losses(model, ids), atol=1e-3)  # eviction did matter


def test_sinks_with_original_positions_equal_a_masked_forward(tiny):
    model, ids = tiny
    policy = StreamingLLM(sinks=4, positions="original")
    result = run_with_budget(model, None, ids, policy, budget=12, chunk=1)
    ref = reference_losses(model, ids, band(len(ids), 12, sinks=4))
    assert torch.allclose(torch.tensor(result.loss_per_position), ref, atol=1e-5)
    # at every recorded step the kept set is the sinks + the window, in every layer and head
    t = result.kept_steps[-1]
    kept = result.kept[-1, 0, 0].nonzero().flatten().tolist()
    assert kept == [0, 1, 2, 3] + list(range(t - 7, t + 1))


def test_cache_positions_change_only_the_sinks_relative_distances(tiny):
    model, ids = tiny
    cache = run_with_budget(model, None, ids, StreamingLLM(sinks=4), budget=12, chunk=1)
    original = run_with_budget(model, None, ids, StreamingLLM(4, "original"), budget=12, chunk=1)
    same = torch.tensor(cache.loss_per_position[:11]) - torch.tensor(original.loss_per_position[:11])
    assert same.abs().max() < 1e-5  # before any eviction the cache slot is the position
    after = torch.tensor(cache.loss_per_position[11:]) - torch.tensor(original.loss_per_position[11:])
    assert after.abs().max() > 1e-6  # after it, the sinks sit closer to the query


@pytest.mark.parametrize("policy", [SlidingWindow(), StreamingLLM(), H2O(), SnapKV(), PyramidKV(), RKV()], ids=str)
def test_budget_covering_the_text_equals_the_full_cache(tiny, policy):
    model, ids = tiny
    full = run_with_budget(model, None, ids, FullCache(), budget=len(ids), chunk=3)
    ours = run_with_budget(model, None, ids, policy, budget=len(ids) + 5, chunk=3)
    assert (ours.loss_per_position == full.loss_per_position).all()
    assert "equals the full cache" in ours.note


STREAMING = [H2O(), SnapKV(window=4, at_prefill=False), PyramidKV(window=4, at_prefill=False), RKV(window=4)]


@pytest.mark.parametrize("policy", STREAMING, ids=lambda p: p.name)
def test_evicting_policies_hold_the_budget_and_keep_the_newest_token(tiny, policy):
    model, ids = tiny
    result = run_with_budget(model, None, ids, policy, budget=16, chunk=2)
    counts = result.kept.sum(-1)  # (steps, layers, heads): tokens the last query of the step saw
    budgets = torch.tensor(result.layer_budgets)[None, :, None]
    assert (counts[-1] <= budgets[0]).all() and counts.max() <= max(16, max(result.layer_budgets))
    assert sum(result.layer_budgets) == 16 * 2  # PyramidKV moves tokens between layers, same total
    assert result.kept[-1, :, :, len(ids) - 1].all()
    assert math.isfinite(result.perplexity)


# ---------------------------------------------------------------------- the scorers, transcribed
def random_view(n_kv=2, group=2, n=40, window=6, dim=16, seed=0):
    g = torch.Generator().manual_seed(seed)
    keys = torch.randn(n_kv, n, dim, generator=g)
    queries = torch.randn(n_kv * group, window, dim, generator=g)
    return LayerView(
        positions=torch.arange(n).expand(n_kv, n),
        keys=keys,
        attention_sum=torch.rand(n_kv, n, generator=g),
        window_queries=queries,
        window_positions=torch.arange(n - window, n),
    )


def kvpress_snapkv_scores(queries, keys, window, kernel):
    """kvpress presses/snapkv_press.py: compute_window_attention + score (queries already rotated)."""
    n_kv, q_len, dim = keys.shape
    groups = queries.shape[0] // n_kv
    key_states = keys.repeat_interleave(groups, 0)
    attn = queries @ key_states.transpose(1, 2) / math.sqrt(dim)
    mask = torch.triu(torch.full_like(attn, float("-inf")), diagonal=q_len - window + 1)
    attn = (attn + mask).softmax(-1)[..., :-window]
    scores = attn.mean(dim=-2)
    scores = F.avg_pool1d(scores, kernel_size=kernel, padding=kernel // 2, stride=1)
    scores = scores.view(n_kv, groups, q_len - window).mean(1)
    return F.pad(scores, (0, window), value=scores.max().item())


def kept_set(idx):
    return [sorted(row.tolist()) for row in idx]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_snapkv_keeps_what_kvpress_keeps(seed):
    view = random_view(seed=seed)
    ref = kvpress_snapkv_scores(view.window_queries, view.keys, 6, 5).topk(20, dim=-1).indices
    ours = SnapKV(window=6, kernel=5).keep(view, 20, 0, 1)
    assert kept_set(ours) == kept_set(ref)


def test_streaming_llm_keeps_what_kvpress_keeps():
    """kvpress presses/streaming_llm_press.py: ones, with zeros after the sinks for the pruned tokens."""
    view, n, keep, sinks = random_view(), 40, 15, 4
    scores = torch.ones(2, n)
    scores[:, sinks : sinks + (n - keep)] = 0
    ref = scores.topk(keep, dim=-1).indices
    assert kept_set(StreamingLLM(sinks=sinks).keep(view, keep, 0, 1)) == kept_set(ref)


def test_h2o_keeps_what_the_reference_keeps():
    """H2O's reference (h2o_hf utils_real_drop): keep the recent window, then the top accumulated scores."""
    view, keep = random_view(seed=3), 16
    recent = keep // 2
    hh = view.attention_sum[:, : 40 - recent]
    heavy = hh.topk(keep - recent, dim=-1).indices
    ref = torch.cat([heavy, torch.arange(40 - recent, 40).expand(2, recent)], dim=1)
    assert kept_set(H2O(recent_ratio=0.5).keep(view, keep, 0, 1)) == kept_set(ref)


def kvpress_pyramid_budget(compression_ratio, window, beta, q_len, n_layers, layer_idx):
    """kvpress presses/pyramidkv_press.py get_layer_budget."""
    max_capacity_prompt = window + q_len * (1 - compression_ratio)
    min_num = (max_capacity_prompt - window) / beta
    max_num = (max_capacity_prompt - window) * 2 - min_num
    if max_num >= q_len - window:
        max_num = q_len - window
        min_num = (max_capacity_prompt - window) * 2 - max_num
    if not (q_len >= max_num >= min_num >= window):
        return round(q_len * (1 - compression_ratio))
    steps = (max_num - min_num) / (n_layers - 1)
    return round(max_num - layer_idx * steps)


@pytest.mark.parametrize(
    "budget,length,window,beta",
    [(64, 512, 8, 4), (64, 512, 64, 20), (200, 260, 8, 4), (32, 2048, 4, 2)],
)
def test_pyramid_budgets_equal_kvpress(budget, length, window, beta):
    ratio = 1 - budget / length
    ref = [kvpress_pyramid_budget(ratio, window, beta, length, 30, i) for i in range(30)]
    assert layer_budgets(budget, 30, length, window, beta) == ref


def rkv_reference_scores(queries, keys, window, kernel, lam):
    """R-KV (arXiv 2505.24133, eqs. for importance and redundancy), as its kvpress-style RKVPress scorer:
    softmax of window attention over the history, mean over queries and group, max-pooled; redundancy:
    cosine similarity with the diagonal and each row's most recent similar (> 0.5) key zeroed, column
    mean, softmax. (That scorer also pins the first four tokens; the paper does not, and neither do we.)"""
    n_kv, n, dim = keys.shape
    groups = queries.shape[0] // n_kv
    history = keys[:, :-window]
    attn = queries.view(n_kv, groups, window, dim) @ history[:, None].transpose(2, 3) / math.sqrt(dim)
    importance = attn.softmax(-1).mean(1).mean(1)
    importance = F.max_pool1d(importance, kernel_size=kernel, padding=kernel // 2, stride=1)
    unit = history / (history.norm(dim=-1, keepdim=True) + 1e-8)
    sim = unit @ unit.transpose(-1, -2)
    sim.diagonal(dim1=-2, dim2=-1).fill_(0.0)
    idx = torch.where(sim > 0.5, torch.arange(n - window).expand_as(sim), torch.zeros_like(sim).long())
    sim.scatter_(-1, idx.max(-1).values.unsqueeze(-1), 0.0)
    redundancy = sim.mean(dim=1).softmax(-1)
    scores = torch.full((n_kv, n), 1e9)
    scores[:, :-window] = importance * lam - redundancy * (1 - lam)
    return scores


@pytest.mark.parametrize("seed", [0, 1])
def test_rkv_keeps_what_the_reference_keeps(seed):
    view = random_view(seed=seed)
    view.keys[:, 10] = view.keys[:, 20]  # a repeated token: redundancy must matter
    ref = rkv_reference_scores(view.window_queries, view.keys, 6, 7, 0.1).topk(20, dim=-1).indices
    ours = RKV(window=6, kernel=7, lam=0.1).keep(view, 20, 0, 1)
    assert kept_set(ours) == kept_set(ref)


# ---------------------------------------------------------------------- compression at prefill
def prompt_queries_and_keys(model, prompt_ids):
    """Per layer: (queries (H, T, D), keys (KV, T, D)) of the prompt, RoPE applied, from transformers' own forward
    (each layer's input is the hidden state transformers hands it; kvpress's hook sees the same)."""
    from transformers.models.llama.modeling_llama import apply_rotary_pos_emb

    x = torch.tensor([prompt_ids])
    with torch.no_grad():
        hidden = model(x, output_hidden_states=True).hidden_states
        cos, sin = model.model.rotary_emb(hidden[0], torch.arange(len(prompt_ids))[None])
        out = []
        for index, layer in enumerate(model.model.layers):
            attn, h = layer.self_attn, layer.input_layernorm(hidden[index])
            q = attn.q_proj(h).view(1, len(prompt_ids), -1, attn.head_dim).transpose(1, 2)
            k = attn.k_proj(h).view(1, len(prompt_ids), -1, attn.head_dim).transpose(1, 2)
            q, k = apply_rotary_pos_emb(q, k, cos, sin)
            out.append((q[0], k[0]))
    return out


def kvpress_prefill_keep(model, prompt_ids, policy, budget, n_layers):
    """kvpress's ScorerPress.compress at prefill: per layer, the top n_kept of SnapKV's score (PyramidKV: n_kept
    from get_layer_budget), as sets of prompt positions per KV head."""
    kept = []
    for index, (queries, keys) in enumerate(prompt_queries_and_keys(model, prompt_ids)):
        n = len(prompt_ids)
        scores = kvpress_snapkv_scores(queries[:, -policy.window :], keys, policy.window, policy.kernel)
        if isinstance(policy, PyramidKV):
            n_kept = kvpress_pyramid_budget(1 - budget / n, policy.window, policy.beta, n, n_layers, index)
        else:
            n_kept = int(n * (budget / n))
        kept.append(kept_set(scores.topk(n_kept, dim=-1).indices))
    return kept


PREFILL = [SnapKV(window=6), PyramidKV(window=6, beta=2.0)]


@pytest.mark.parametrize("policy", PREFILL, ids=lambda p: p.name)
def test_prefill_compression_keeps_what_kvpress_keeps(tiny, policy):
    model, ids = tiny
    prompt, budget = 40, 16
    decoder = BudgetDecoder(model, None, ids, policy, budget=budget, chunk=4, prompt=prompt)
    decoder.train_steps(1)  # the prefill step: the prompt read at once, then cut once
    ours = [kept_set(layer.positions) for layer in decoder.cache]
    ref = kvpress_prefill_keep(model, ids[:prompt], policy, budget, n_layers=2)
    assert ours == ref
    if isinstance(policy, PyramidKV):
        assert [len(r[0]) for r in ref] == [24, 8]  # the pyramid: more below, fewer above, same total


def masked_reference_losses(model, ids, kept_per_layer, prompt):
    """transformers' forward with, in every layer, a mask per query head: a query after the prompt sees the prompt
    positions that layer's KV head kept, and every token from the prompt's end up to itself."""
    n, n_heads = len(ids), model.config.num_attention_heads
    group = n_heads // model.config.num_key_value_heads
    i = torch.arange(n)
    causal = i[None, :] <= i[:, None]
    masks = []
    for kept in kept_per_layer:  # kept: per KV head, the prompt positions kept
        visible = causal.repeat(n_heads, 1, 1)  # (H, T, T)
        for head in range(n_heads):
            hidden = torch.ones(n, dtype=torch.bool)
            hidden[kept[head // group]] = False
            hidden[prompt:] = False  # decoded tokens are appended, never evicted
            visible[head, prompt:, :] &= ~hidden[None, :]
        masks.append(torch.zeros(visible.shape).masked_fill(~visible, float("-inf"))[None])
    hooks = [
        layer.self_attn.register_forward_pre_hook(
            lambda module, args, kwargs, mask=mask: (args, kwargs | {"attention_mask": mask}), with_kwargs=True
        )
        for layer, mask in zip(model.model.layers, masks)
    ]
    try:
        return reference_losses(model, ids)
    finally:
        for hook in hooks:
            hook.remove()


@pytest.mark.parametrize("policy", PREFILL, ids=lambda p: p.name)
def test_decoding_after_prefill_compression_equals_a_masked_forward(tiny, policy):
    model, ids = tiny
    prompt, budget = 40, 16
    result = run_with_budget(model, None, ids, policy, budget=budget, chunk=4, prompt=prompt)
    kept = kvpress_prefill_keep(model, ids[:prompt], policy, budget, n_layers=2)
    ref = masked_reference_losses(model, ids, kept, prompt)
    ours = torch.tensor(result.loss_per_position)
    assert torch.allclose(ours, ref, atol=1e-5)
    full = reference_losses(model, ids)
    assert torch.allclose(ours[: prompt - 1], full[: prompt - 1], atol=1e-5)  # the prompt: full attention
    assert not torch.allclose(ours[prompt:], full[prompt:], atol=1e-3)  # after the cut the model sees less
    # no eviction while decoding: the last step's queries see the kept prompt and every decoded token
    last = result.kept[-1, :, :, prompt:]
    assert last.all() and result.prompt == prompt and result.decoded_from == prompt
    assert "compressed once" in result.note


def test_a_prompt_that_fits_the_budget_is_not_compressed(tiny):
    model, ids = tiny
    full = run_with_budget(model, None, ids, FullCache(), budget=len(ids), chunk=4)
    ours = run_with_budget(model, None, ids, PyramidKV(window=4, beta=2.0), budget=16, chunk=4, prompt=12)
    assert torch.allclose(torch.tensor(ours.loss_per_position), torch.tensor(full.loss_per_position), atol=1e-6)
    assert "fits the budget" in ours.note


def test_streaming_snapkv_evicts_after_the_prompt_too(tiny):
    """The labelled variant: the same scorer run at every overflow, so decoded tokens can leave the cache."""
    model, ids = tiny
    result = run_with_budget(model, None, ids, SnapKV(window=6, at_prefill=False), budget=16, chunk=4)
    assert result.prompt == 0 and result.kept.sum(-1).max() <= 16
    assert not result.kept[-1, :, :, 40:].all()


# ---------------------------------------------------------------------- memory and quantisation
def test_cache_bytes_are_the_tensors_and_the_formula(tiny):
    model, ids = tiny
    decoder = BudgetDecoder(model, None, ids, SnapKV(window=4, at_prefill=False), budget=16, chunk=4)
    while not decoder.done:
        decoder.train_steps(4)
    measured = sum(c.keys.nbytes + c.values.nbytes for c in decoder.cache)
    cached = decoder.cache[0].keys.shape[1]
    assert measured == cache_bytes_formula(2, 2, 16, cached, 4)
    result = decoder.result()
    assert result.cache_bytes == cache_bytes_formula(2, 2, 16, 16, 4)  # the peak: budget tokens
    assert result.full_cache_bytes == cache_bytes_formula(2, 2, 16, len(ids), 4)


@pytest.mark.parametrize("bits", [8, 4])
def test_quantisation_round_trips_within_half_a_step(bits):
    x = torch.randn(3, 64, 16) * torch.linspace(0.1, 5, 16)  # channels of different ranges
    for axis in (-1, -2):
        q = quantize(x, bits, axis)
        step = (x.amax(axis, keepdim=True) - x.amin(axis, keepdim=True)) / (2**bits - 1)
        err = (dequantize(q) - x).abs()
        assert (err <= step / 2 + 2e-3 * x.abs().amax()).all()  # + float16 rounding of scale and zero
        assert q.codes.numel() == x.numel() * bits // 8
    keys_hat, nbytes = quantize_keys(x, bits, group=32)
    assert nbytes == x.numel() * bits // 8 + 2 * 3 * 2 * 16 * 2  # codes + fp16 scale, zero per group
    _, vbytes = quantize_values(x, bits)
    assert vbytes == x.numel() * bits // 8 + 2 * 3 * 64 * 2


def test_quantised_cache_costs_little_perplexity(tiny):
    model, ids = tiny
    full = run_with_budget(model, None, ids, FullCache(), budget=len(ids), chunk=8)
    eight = run_with_budget(model, None, ids, FullCache(), len(ids), chunk=8, bits=8, prefill=8)
    assert abs(eight.perplexity - full.perplexity) / full.perplexity < 0.02
    # per layer (2 KV heads, head_dim 16, 60 tokens): values 8-bit + fp16 scale and zero per token;
    # keys: one full group of 32 tokens 8-bit + fp16 scale and zero per channel, 28 residual keys in fp16
    per_layer = 60 * 2 * (16 + 4) + (2 * 32 * 16 + 2 * 16 * 4) + 28 * 2 * 16 * 2
    assert eight.cache_bytes == 2 * per_layer < full.cache_bytes / 2


# ---------------------------------------------------------------------- bad input
def test_bad_input_gets_a_clear_message(tiny):
    model, ids = tiny
    with pytest.raises(ValueError, match="too small"):
        BudgetDecoder(model, None, ids, StreamingLLM(sinks=4), budget=5, chunk=1)
    with pytest.raises(ValueError, match="reads at most"):
        BudgetDecoder(model, None, ids * 5, SlidingWindow(), budget=16)
    with pytest.raises(ValueError, match="no Llama-style"):
        BudgetDecoder(torch.nn.Linear(2, 2), None, ids, SlidingWindow(), budget=16)
    with pytest.raises(ValueError, match="below"):
        KVCacheConfig(budget=8, sinks=4, chunk=8)


# ---------------------------------------------------------------------- R-KV's text
def test_reasoning_trace_is_deterministic_repetitive_and_right():
    import re

    from models.kv_cache.reasoning import reasoning_trace

    text = reasoning_trace(problems=5, seed=3)
    assert text == reasoning_trace(problems=5, seed=3) != reasoning_trace(problems=5, seed=4)
    problems = text.split("Question: ")[1:]
    assert len(problems) == 5
    for problem in problems:
        count = int(re.search(r"How much do (\d+) \w+ cost\?", problem).group(1))
        price = int(re.search(r"at (\d+) \w+ each", problem).group(1))
        step = re.search(rf"{count} times {price}: [^.]*\.", problem).group(0)
        assert problem.count(step) == 3  # worked, double-checked, checked once more: R-KV's redundancy
        assert f"so the cost is {count} times {price}" in problem and f"is {count * price}." in step
