"""A KV cache you can prune: teacher-forced decoding of a text through a Llama-style model, budget enforced.

A causal LM caches each token's keys and values in every layer, so a new token only computes its own. The cache
takes 2 × layers × kv_heads × head_dim × tokens × bytes: it grows with the text, and at long context it, not the
weights, fills the memory. Eviction keeps a budget of tokens per layer and KV head; the policies (which tokens)
are in models/kv_cache/policies.py.

The loop below is the model's own forward written out layer by layer (embeddings, RMSNorm, q/k/v projections,
RoPE, grouped-query attention over the cache, MLP), with the cache held as plain tensors that a policy prunes:

    for each step (`chunk` new tokens of the text):
        if the chunk does not fit: every layer drops cached tokens until budget - chunk × evict_every remain
        run the chunk: its queries attend to the kept cache and to the chunk's earlier tokens
        loss of the next token at each position (teacher forcing: the text, not samples, is fed back)

So no query ever attends to more than `budget` tokens. That is eviction during decoding (H2O, StreamingLLM, the
window, R-KV, and SnapKV / PyramidKV run "streaming"). Compression at prefill (SnapKV and PyramidKV as their papers
run them, `policy.at_prefill`) is the other way:

    read the prompt (its first `prompt` tokens) in one step, full attention, as any prefill does
    score the prompt's tokens with its last `window` queries and cut every layer to its budget, once
    decode the rest a chunk per step: new tokens are appended, nothing is evicted again

While decoding, evict_every = 1 prunes before every step; a larger value prunes further, less often (as kvpress's
DecodingPress and StreamingLLM's own loop do), which costs less time and holds budget - chunk × evict_every to
budget tokens between evictions. Positions: keys are rotated (RoPE) at their position in the text and keep it
after eviction (H2O, SnapKV, PyramidKV, R-KV and the window);
StreamingLLM by default assigns positions inside the cache instead, as its paper does: a key is stored rotated at
its slot, and when an eviction moves it from slot i down to slot j it is rotated by j - i (RoPE rotations add),
so the cache is always rotated at slots 0..n-1 and the new token at slot n.

    result = run_with_budget(model, tokenizer, text, policy=StreamingLLM(sinks=4), budget=128)
    result = run_with_budget(model, tokenizer, text, policy=SnapKV(), budget=128, prompt=400)  # compress 400 once
    result.perplexity, result.loss_per_position, result.kept, result.cache_bytes, result.tokens_per_second
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F

from models.kv_cache.policies import (
    H2O,
    RKV,
    FullCache,
    LayerView,
    PyramidKV,
    SlidingWindow,
    SnapKV,
    StreamingLLM,
)
from models.kv_cache.quant import quantize_keys, quantize_values

__all__ = [
    "H2O",
    "RKV",
    "BudgetDecoder",
    "BudgetResult",
    "FullCache",
    "PyramidKV",
    "SlidingWindow",
    "SnapKV",
    "StreamingLLM",
    "cache_bytes_formula",
    "full_cache_losses",
    "run_with_budget",
]

MAX_RECORDED_STEPS = 160  # steps kept in `kept` (evenly spaced), so long texts stay small in memory


def cache_bytes_formula(layers: int, kv_heads: int, head_dim: int, tokens: int, bytes_per: float):
    """2 (K and V) × layers × kv_heads × head_dim × tokens × bytes per value."""
    return 2 * layers * kv_heads * head_dim * tokens * bytes_per


def _rope(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    """Rotary embedding (Llama's rotate_half layout): x (heads, T, D), cos/sin (T, D)."""
    half = x.shape[-1] // 2
    rotated = torch.cat([-x[..., half:], x[..., :half]], dim=-1)
    return x * cos + rotated * sin


def llama_parts(model):
    """The modules the loop needs, or a clear error for a model without a Llama-style KV cache."""
    inner = getattr(model, "model", None)
    layers = getattr(inner, "layers", None)
    ok = layers is not None and all(
        hasattr(getattr(layer, "self_attn", None), name)
        for layer in layers
        for name in ("q_proj", "k_proj", "v_proj", "o_proj")
    )
    if not ok or not hasattr(inner, "rotary_emb") or not hasattr(model, "lm_head"):
        raise ValueError(
            f"{type(model).__name__} has no Llama-style decoder layers with a KV cache (q/k/v projections, "
            "rotary positions); pick a causal LM such as SmolLM2, Llama, Mistral or Qwen2."
        )
    return inner, layers


@dataclass
class LayerCache:
    """One layer's cache, batch 1; every tensor's token axis is in position order."""

    keys: torch.Tensor  # (KV, n, D) RoPE applied (or not yet, for StreamingLLM's cache positions)
    values: torch.Tensor  # (KV, n, D)
    positions: torch.Tensor  # (KV, n) text positions of the cached tokens
    attention_sum: torch.Tensor  # (KV, n) attention received so far (H2O)
    window_queries: torch.Tensor  # (H, W, D) the last queries (SnapKV, PyramidKV, R-KV)
    window_positions: torch.Tensor  # (W,)

    def bytes(self) -> int:
        return self.keys.numel() * self.keys.element_size() * 2


@dataclass
class BudgetResult:
    policy: str
    budget: int
    tokens: list[str]  # the text's tokens
    loss_per_position: np.ndarray  # (T-1,) loss of token t+1 given tokens <= t
    kept: torch.Tensor | None  # bool (steps, layers, kv_heads, T): what each step's queries could attend to
    kept_steps: list[int]  # the last text position of each recorded step
    layer_budgets: list[int]  # per-layer budget at the last eviction (PyramidKV differs by layer)
    cache_bytes: int  # peak bytes of the cached K and V tensors, measured
    final_cache_bytes: int  # bytes of the cached K and V tensors after the last step, measured
    full_cache_bytes: int  # the formula for the whole text
    tokens_per_second: float  # decode steps only (after the prefill step), `chunk` tokens per step
    seconds: float
    note: str = ""
    prompt: int = 0  # tokens compressed once at prefill (0: eviction during decoding)
    decoded_from: int = 0  # the first position read by a decode step (after the prefill step)

    @property
    def perplexity(self) -> float:
        return float(np.exp(self.loss_per_position.mean()))


class BudgetDecoder:
    """Teacher-forced decoding under a budget, a chunk per step: train_steps(n) runs n steps (the live kit)."""

    def __init__(
        self,
        model,
        tokenizer,
        text,
        policy,
        budget: int,
        chunk: int = 1,
        device=None,
        bits: int = 16,
        prefill: int | None = None,
        evict_every: int = 1,
        score_from: int = 0,
        prompt: int | None = None,
    ):
        if bits not in (4, 8, 16):
            raise ValueError("The cache holds 16, 8 or 4 bits per value.")
        if bits < 16 and not isinstance(policy, FullCache):
            raise ValueError("Quantisation is shown on the full cache (KIVI's key groups need every token).")
        self.bits = bits
        self.quantized_upto: list[int] = []  # per layer: keys before this index are quantised
        self.quant_bytes: list[int] = []  # per layer: bytes of the quantised codes and scales
        self.inner, self.layers = llama_parts(model)
        self.model, self.policy = model, policy
        cfg = model.config
        self.n_heads = cfg.num_attention_heads
        self.n_kv = getattr(cfg, "num_key_value_heads", None) or self.n_heads
        self.head_dim = getattr(cfg, "head_dim", None) or cfg.hidden_size // self.n_heads
        self.device = device or next(model.parameters()).device
        ids = tokenizer(text)["input_ids"] if isinstance(text, str) else list(text)
        limit = getattr(cfg, "max_position_embeddings", None)
        if len(ids) < 2:
            raise ValueError("The text needs at least two tokens.")
        if limit and len(ids) > limit:
            raise ValueError(f"The text has {len(ids):,} tokens; this model reads at most {limit:,}.")
        self.ids = torch.tensor(ids, device=self.device)
        self.tokens = tokenizer.convert_ids_to_tokens(ids) if isinstance(text, str) else []
        self.length = len(ids)
        if isinstance(policy, FullCache) or budget >= self.length:
            budget = self.length
        if evict_every < 1:
            raise ValueError("Evict every 1 or more steps.")
        self.budget, self.chunk, self.evict_every = budget, chunk, evict_every
        self.prefill = min(budget, prefill or budget)  # tokens of the first step (no eviction yet)
        # compression at prefill: the first step reads the whole prompt (default: half the text), then one cut
        self.at_prefill = getattr(policy, "at_prefill", False) and budget < self.length
        self.prompt = 0
        if self.at_prefill:
            self.prompt = min(self.length - 1, prompt or self.length // 2)
            if self.prompt < 1:
                raise ValueError("The prompt needs at least one token.")
            self.prefill = self.prompt
        self.score_from = score_from  # positions before it get no logits (a needle search needs the end)
        sinks = getattr(policy, "sinks", 0)
        window = getattr(policy, "window", 0)
        freed = chunk * evict_every  # tokens an eviction makes room for
        if self.at_prefill:
            freed = 0  # one cut to the budget, no room to make for later steps
        if budget < self.length and budget - freed < max(sinks + 1, window, 1):
            need = max(sinks + 1, window, 1) + freed
            raise ValueError(
                f"A budget of {budget} is too small: {policy.name} needs at least {need} "
                f"({sinks} sinks, a window of {window}, and {freed} new tokens between evictions)."
            )
        self.note = (
            "The budget covers the whole text: this equals the full cache."
            if (budget >= self.length and not isinstance(policy, FullCache))
            else ""
        )
        if self.at_prefill:
            self.note = (
                f"The prompt ({self.prompt} tokens) fits the budget: nothing is compressed, this equals the full cache."
                if self.prompt <= budget
                else f"Prompt of {self.prompt} tokens compressed once to {budget}; the next "
                f"{self.length - self.prompt} tokens are appended (no eviction while decoding)."
            )
        self.window = max(window, 1)
        self.tracks_attention = isinstance(policy, H2O)  # only H2O reads the attention received
        self.tracks_window = hasattr(policy, "window")  # SnapKV, PyramidKV, R-KV read the last queries
        self.cos, self.sin = self._cos_sin(torch.arange(self.length + 1, device=self.device))  # (T+1, D)
        self.cache: list[LayerCache] = []
        self.losses = torch.zeros(self.length - 1)
        self.predicted = torch.full((self.length - 1,), -1, dtype=torch.long)  # argmax next token
        self.done_tokens = 0
        self.record_every = max(1, math.ceil((self.length - self.prefill) / chunk / MAX_RECORDED_STEPS))
        self.kept_rows: list[torch.Tensor] = []
        self.kept_steps: list[int] = []
        self.step_index = 0
        self.layer_budgets = [budget] * len(self.layers)
        self.peak_bytes = 0
        self.seconds = self.decode_seconds = 0.0
        self.decode_tokens = 0

    @property
    def done(self) -> bool:
        return self.done_tokens >= self.length

    # ------------------------------------------------------------------ one step
    @torch.inference_mode()
    def train_steps(self, n: int = 1) -> dict:
        for _ in range(n):
            if self.done:
                break
            start = time.perf_counter()
            first = self.done_tokens == 0
            c = self.prefill if first else min(self.chunk, self.length - self.done_tokens)
            if not first and self._overflows(c):
                self._evict(c * self.evict_every)
            self._record(c)
            self._run_chunk(self.done_tokens, c)
            self.done_tokens += c
            if first and self.at_prefill and self.prompt > self.budget:
                self._compress()
            seconds = time.perf_counter() - start
            self.seconds += seconds
            if not first:
                self.decode_seconds += seconds
                self.decode_tokens += c
        seen = min(self.done_tokens, self.length - 1)
        return {"tokens": self.done_tokens, "perplexity": float(self.losses[:seen].mean().exp())}

    def _compress(self) -> None:
        """Compression at prefill: every layer cut once to its budget, scored by the prompt's last queries."""
        if isinstance(self.policy, PyramidKV):
            self.layer_budgets = self.policy.budgets(self.budget, len(self.layers), self.prompt)
        self._evict(0)

    def _overflows(self, c: int) -> bool:
        """Would `c` more tokens push some layer's cache past its budget? (PyramidKV's grow with the text.)"""
        if self.at_prefill:
            return False  # compressed once after the prefill; decoding only appends
        if isinstance(self.policy, PyramidKV):
            self.layer_budgets = self.policy.budgets(self.budget, len(self.layers), self.done_tokens + c)
        return any(layer.positions.shape[1] + c > budget for layer, budget in zip(self.cache, self.layer_budgets))

    def _evict(self, room: int) -> None:
        """Prune every layer to its budget - `room` (room = a step's tokens × evict_every)."""
        for index, layer in enumerate(self.cache):
            keep = max(1, self.layer_budgets[index] - room)
            if layer.positions.shape[1] <= keep:
                continue
            view = LayerView(  # StreamingLLM's keys sit at cache slots; it never reads them
                layer.positions,
                layer.keys,
                layer.attention_sum,
                layer.window_queries,
                layer.window_positions,
            )
            idx = self.policy.keep(view, keep, index, len(self.layers))  # (KV, keep)
            gather = idx[..., None].expand(-1, -1, self.head_dim)
            layer.keys = layer.keys.gather(1, gather)
            layer.values = layer.values.gather(1, gather)
            layer.positions = layer.positions.gather(1, idx)
            if self.tracks_attention:
                layer.attention_sum = layer.attention_sum.gather(1, idx)
            if self.policy.rerotate:
                # the kept keys move down to slots 0..keep-1: rotate them back by the shift
                shift = idx - torch.arange(keep, device=idx.device)  # (KV, keep) >= 0
                cos, sin = self.cos[shift], self.sin[shift]  # (KV, keep, D)
                scale = getattr(self.inner.rotary_emb, "attention_scaling", 1.0)
                if scale != 1.0:  # the table holds scaled cos/sin (YaRN-style RoPE)
                    cos, sin = cos / scale, sin / scale
                # R(-shift): cos(-x) = cos x, sin(-x) = -sin x
                layer.keys = _rope(layer.keys, cos, -sin)

    def _cos_sin(self, positions: torch.Tensor):
        dummy = torch.zeros(1, device=self.device, dtype=self.inner.embed_tokens.weight.dtype)
        cos, sin = self.inner.rotary_emb(dummy, positions[None])
        return cos[0], sin[0]  # (T, D)

    def _record(self, c: int) -> None:
        if self.step_index % self.record_every == 0 or self.done_tokens + c >= self.length:
            row = torch.zeros(len(self.layers), self.n_kv, self.length, dtype=torch.bool)
            for index, layer in enumerate(self.cache):
                row[index].scatter_(1, layer.positions.cpu(), True)
            row[:, :, self.done_tokens : self.done_tokens + c] = True
            self.kept_rows.append(row)
            self.kept_steps.append(self.done_tokens + c - 1)
        self.step_index += 1

    def _run_chunk(self, start: int, c: int) -> None:
        positions = torch.arange(start, start + c, device=self.device)
        h = self.inner.embed_tokens(self.ids[start : start + c])[None]  # (1, c, C)
        cos, sin = self.cos[start : start + c], self.sin[start : start + c]  # (c, D)
        H, KV, D = self.n_heads, self.n_kv, self.head_dim
        group = H // KV
        for index, layer in enumerate(self.layers):
            attn = layer.self_attn
            x = layer.input_layernorm(h)
            q = attn.q_proj(x).view(c, H, D).transpose(0, 1)  # (H, c, D)
            k = attn.k_proj(x).view(c, KV, D).transpose(0, 1)  # (KV, c, D)
            v = attn.v_proj(x).view(c, KV, D).transpose(0, 1)
            if hasattr(attn, "q_norm"):  # Qwen3-style per-head norms
                q, k = attn.q_norm(q), attn.k_norm(k)
            if index == len(self.cache):
                empty = k.new_zeros(KV, 0, D)
                self.cache.append(
                    LayerCache(
                        empty,
                        empty,
                        positions.new_zeros(KV, 0),
                        k.new_zeros(KV, 0),
                        q.new_zeros(H, 0, D),
                        positions.new_zeros(0),
                    )
                )
            cache = self.cache[index]
            n = cache.keys.shape[1]
            key_positions = torch.cat([cache.positions, positions.expand(KV, c)], dim=1)  # (KV, n+c)
            if self.policy.rerotate:  # StreamingLLM: keys stored rotated at their slot 0..n+c-1
                slot_cos, slot_sin = self.cos[n : n + c], self.sin[n : n + c]
                queries, k_rot = _rope(q, slot_cos, slot_sin), _rope(k, slot_cos, slot_sin)
            else:
                queries, k_rot = _rope(q, cos, sin), _rope(k, cos, sin)
            keys = torch.cat([cache.keys, k_rot], dim=1)  # (KV, n+c, D)
            cache.keys = keys
            if self.bits < 16:  # KIVI: values per token at insertion
                v, _ = quantize_values(v, self.bits)
            values = torch.cat([cache.values, v], dim=1)  # (KV, n+c, D)
            cache.values = values
            cache.positions = key_positions
            # grouped-query attention without copying the cache per query head: the `group` query heads of a
            # KV head become one batch row of group * c queries
            grouped = queries.reshape(KV, group * c, D)  # (KV, group*c, D)
            scores = (grouped @ keys.transpose(1, 2)).float() * attn.scaling  # (KV, group*c, n+c)
            if c > 1:  # a chunk's queries must not see its later tokens
                hidden = key_positions[:, None, :] > positions[:, None]  # (KV, c, n+c)
                scores = scores.view(KV, group, c, n + c).masked_fill(hidden[:, None], float("-inf"))
                scores = scores.view(KV, group * c, n + c)
            weights = scores.softmax(-1)  # (KV, group*c, n+c)
            out = (weights.to(values.dtype) @ values).view(H, c, D)  # (H, c, D)
            h = h + attn.o_proj(out.transpose(0, 1).reshape(1, c, H * D))
            h = h + layer.mlp(layer.post_attention_layernorm(h))
            if self.tracks_attention:  # summed over the step's queries, averaged over the group
                received = weights.sum(dim=1) / group  # (KV, n+c)
                cache.attention_sum = F.pad(cache.attention_sum, (0, c)) + received
            if self.tracks_window:
                q_rot = _rope(q, cos, sin) if self.policy.rerotate else queries
                cache.window_queries = torch.cat([cache.window_queries, q_rot], 1)[:, -self.window :]
                cache.window_positions = torch.cat([cache.window_positions, positions])[-self.window :]
        if self.bits < 16:
            self._quantize_key_groups()
        self.peak_bytes = max(self.peak_bytes, self._cache_bytes())
        first = max(0, min(c, self.score_from - start))  # no logits before score_from
        if first >= c:
            return
        logits = self.model.lm_head(self.inner.norm(h[:, first:]))[0].float()  # (c-first, vocab)
        targets = self.ids[start + first + 1 : start + c + 1]
        losses = F.cross_entropy(logits[: len(targets)], targets, reduction="none")
        at = slice(start + first, start + first + len(targets))
        self.losses[at] = losses.cpu()
        self.predicted[at] = logits[: len(targets)].argmax(-1).cpu()

    def _quantize_key_groups(self, group: int = 32) -> None:
        """KIVI: keys per channel, once a group of `group` tokens is complete (the rest stay exact)."""
        while len(self.quantized_upto) < len(self.cache):
            self.quantized_upto.append(0)
            self.quant_bytes.append(0)
        for index, cache in enumerate(self.cache):
            start, length = self.quantized_upto[index], cache.keys.shape[1]
            end = start + (length - start) // group * group
            if end > start:
                block = cache.keys[:, start:end]
                keys_hat, nbytes = quantize_keys(block, self.bits, group)
                cache.keys = torch.cat([cache.keys[:, :start], keys_hat, cache.keys[:, end:]], 1)
                self.quantized_upto[index] = end
                self.quant_bytes[index] += nbytes

    def _cache_bytes(self) -> int:
        """Bytes of the cache as stored: the K and V tensors; quantised, their codes and scales."""
        if self.bits == 16:
            return sum(layer.bytes() for layer in self.cache)
        total = 0
        for index, cache in enumerate(self.cache):
            n, done = cache.keys.shape[1], self.quantized_upto[index]
            kv, _, d = cache.keys.shape
            values = n * kv * (d * self.bits // 8 + 4)  # codes + float16 scale and zero per token
            residual = (n - done) * kv * d * 2  # keys of the unfinished group, float16
            total += self.quant_bytes[index] + values + residual
        return total

    # ------------------------------------------------------------------ the result
    def result(self) -> BudgetResult:
        element = self.inner.embed_tokens.weight.element_size()
        full = cache_bytes_formula(len(self.layers), self.n_kv, self.head_dim, self.length, element)
        speed_tokens, speed_seconds = (
            (self.decode_tokens, self.decode_seconds) if self.decode_tokens else (self.done_tokens, self.seconds)
        )
        return BudgetResult(
            policy=self.policy.name,
            budget=self.budget,
            tokens=self.tokens,
            loss_per_position=self.losses[: max(1, min(self.done_tokens, self.length - 1))].numpy(),
            kept=torch.stack(self.kept_rows) if self.kept_rows else None,
            kept_steps=list(self.kept_steps),
            layer_budgets=list(self.layer_budgets),
            cache_bytes=int(self.peak_bytes),
            final_cache_bytes=int(self._cache_bytes()),
            full_cache_bytes=int(full),
            tokens_per_second=speed_tokens / max(speed_seconds, 1e-9),
            seconds=self.seconds,
            note=self.note,
            prompt=self.prompt,
            decoded_from=self.prefill,
        )


def run_with_budget(model, tokenizer, text, policy, budget: int, chunk: int = 1, device=None, **kw):
    """Decode `text` teacher-forced with the cache held to `budget` tokens by `policy`; see BudgetResult.

    The first step reads `prefill` tokens (default: the budget) at once; `bits` quantises the full cache.
    """
    decoder = BudgetDecoder(model, tokenizer, text, policy, budget, chunk, device, **kw)
    while not decoder.done:
        decoder.train_steps(64)
    return decoder.result()


def full_cache_losses(model, ids: list[int]) -> np.ndarray:
    """(T-1,) next-token losses of the text with the full cache: one forward pass (the lesson's first view)."""
    return run_with_budget(model, None, ids, FullCache(), budget=len(ids), chunk=len(ids)).loss_per_position


@dataclass
class KVCacheConfig:
    """The page's settings for a comparison of policies on one text."""

    budget: int = 48  # tokens each query may attend to, per layer and KV head
    n_tokens: int = 256  # tokens of the text to decode
    chunk: int = 8  # new tokens per step; before each step the cache is pruned to budget - chunk
    sinks: int = 4  # StreamingLLM's attention-sink tokens
    window: int = 8  # observation window of SnapKV, PyramidKV and R-KV (always kept)
    policies: tuple = field(default=("Window", "StreamingLLM", "H2O", "SnapKV"))  # compared
    prompt_share: int = 50  # % of the text SnapKV and PyramidKV read as their prompt and compress once

    def __post_init__(self):
        if self.n_tokens < 16:
            raise ValueError("Use at least 16 tokens of text.")
        if not 10 <= self.prompt_share <= 90:
            raise ValueError("The prompt is 10 % to 90 % of the text.")
        if self.chunk < 1:
            raise ValueError("Decode at least one token per step.")
        need = max(self.sinks + 1, self.window) + self.chunk
        if self.budget < need:
            raise ValueError(
                f"A budget of {self.budget} is below {need}: the sinks + 1 ({self.sinks + 1}) or the "
                f"observation window ({self.window}), plus the {self.chunk} new tokens of a step. "
                "Raise the budget or lower the chunk."
            )


def make_policy(name: str, config: KVCacheConfig):
    """A policy by its page name, with the config's sinks and window."""
    makers = {
        "Full cache": FullCache,
        "Window": SlidingWindow,
        "StreamingLLM": lambda: StreamingLLM(sinks=config.sinks),
        "H2O": H2O,
        "SnapKV": lambda: SnapKV(window=config.window),
        "PyramidKV": lambda: PyramidKV(window=config.window),
        "SnapKV (streaming)": lambda: SnapKV(window=config.window, at_prefill=False),
        "PyramidKV (streaming)": lambda: PyramidKV(window=config.window, at_prefill=False),
        "R-KV": lambda: RKV(window=config.window),
    }
    return makers[name]()


# eviction during decoding first, then compression at prefill (SnapKV, PyramidKV) and its streaming variants
POLICY_NAMES = [
    "Window",
    "StreamingLLM",
    "H2O",
    "R-KV",
    "SnapKV",
    "PyramidKV",
    "SnapKV (streaming)",
    "PyramidKV (streaming)",
]
AT_PREFILL = ("SnapKV", "PyramidKV")  # the names that compress the prompt once, as in their papers
