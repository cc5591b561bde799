"""RoPE scaling on SmolLM2: its loss at each position of a real text with no scaling, PI, dynamic NTK and YaRN.

SmolLM2-135M (a Llama) rotates every head's 64 dimensions with RoPE at base 100,000. Each scaling of
models/long_context/rope_scaling.py gives new frequencies theta_i' and an attention scale a:

    cos, sin = a * cos(m * theta_i'), a * sin(m * theta_i')        (m = 0 .. T-1)

and the model runs unchanged with those. Here they go straight into SmolLM2's decoder layers (its embeddings,
layers, norm and head; only the rotary embedding is ours), so the shared, read-only model is never modified:
no session's scaling leaks into another's forward. tests/models/test_long_context.py checks the logits equal
transformers' own model built with the same `rope_parameters` (linear, dynamic, YaRN).

The loss at position m is -log p(x_{m+1} | x_0..x_m): averaged over a few windows of a long text and over
buckets of positions, it is the "perplexity by position" curve of the PI and YaRN papers
(https://arxiv.org/abs/2306.15595 Fig. 2, https://arxiv.org/abs/2309.00071). Within the trained length, a scaling
can only cost; past it, no scaling climbs and the scalings hold.

`attention_mask` takes any 4-D additive mask (1, 1, T, T), so a sparse pattern of models/long_context/patterns.py
runs through the same layers (`additive_mask`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch.nn import functional as F

from models.long_context.rope_scaling import rope_cos_sin, rope_inv_freq, scaling_table

MAX_TOKENS = 4096  # one read of 4,096 tokens: about 11 s on 2 idle CPU cores (SDPA; 1,024: 2.4 s, 2,048: 4.9 s)
LOGIT_CHUNK = 512  # positions per lm_head call (4,096 x 49,152 logits at once would be 0.8 GB)


@dataclass
class SmolScalingConfig:
    """What the SmolLM2 scaling curves read; the page builds it from its widgets."""

    length: int = 512  # tokens per window of text
    factor: float = 4.0  # s: how far linear (PI) and YaRN stretch the positions
    trained_len: int = 8192  # L the scalings assume the model trained at (original_max_position_embeddings)
    windows: int = 1  # windows of text averaged (each a different article)
    bucket: int = 32  # positions per point of the curve

    def __post_init__(self):
        if not 64 <= self.length <= MAX_TOKENS:
            raise ValueError(
                f"Read 64 to {MAX_TOKENS:,} tokens here (got {self.length:,}): a window of T tokens costs T² "
                "attention scores per head in each of SmolLM2's 30 layers."
            )
        if not self.factor >= 1:
            raise ValueError(f"A scaling factor stretches the context: it must be at least 1 (got {self.factor:g}).")
        if not 16 <= self.trained_len <= 1_000_000:
            raise ValueError(f"The trained length must be 16 to 1,000,000 tokens (got {self.trained_len:,}).")
        if not 1 <= self.windows <= 8:
            raise ValueError(f"Use 1 to 8 windows of text (got {self.windows}).")
        if not 1 <= self.bucket <= self.length:
            raise ValueError(f"A bucket holds 1 to {self.length:,} positions (got {self.bucket}).")


def rope_settings(model) -> tuple[int, float]:
    """(head_dim, base) of a Llama-style model's RoPE; ValueError for a model without one."""
    config = getattr(model, "config", None)
    inner = getattr(model, "model", None)
    if config is None or inner is None or not hasattr(inner, "rotary_emb") or not hasattr(inner, "layers"):
        raise ValueError(f"{type(model).__name__} has no rotary position embedding: pick a RoPE model (SmolLM2).")
    head_dim = getattr(config, "head_dim", None) or config.hidden_size // config.num_attention_heads
    params = getattr(config, "rope_parameters", None) or {}
    base = params.get("rope_theta", getattr(config, "rope_theta", None))
    if base is None:
        raise ValueError(f"{type(model).__name__}'s config names no RoPE base (rope_theta).")
    if params.get("rope_type", "default") != "default":
        raise ValueError(f"This model already scales its RoPE ({params['rope_type']}): pick one that does not.")
    return int(head_dim), float(base)


def sdpa_twin(model):
    """The same model with torch's SDPA attention (fused, causal without a T x T mask): its weights are the very
    tensors of `model` (no copy), so a read-only shared model gains a faster twin for a few MB."""
    import copy

    config = copy.deepcopy(model.config)
    config._attn_implementation = "sdpa"
    with torch.device("meta"):  # no weights allocated: they are assigned from `model` below
        twin = type(model)(config)
    twin.load_state_dict(model.state_dict(), assign=True)
    twin.model.rotary_emb = type(twin.model.rotary_emb)(config)  # buffers (inv_freq) are not in the state dict
    for p in twin.parameters():
        p.requires_grad_(False)
    return twin.eval()


def causal_additive_mask(length: int, device, dtype=torch.float32) -> torch.Tensor:
    """(1, 1, T, T): 0 where key j <= query i, the dtype's lowest value above the diagonal."""
    return additive_mask(torch.ones(length, length, dtype=torch.bool).tril(), dtype).to(device)


def additive_mask(allowed: torch.Tensor, dtype=torch.float32) -> torch.Tensor:
    """A bool (T, T) pattern (True = may attend) as the additive (1, 1, T, T) mask eager attention adds."""
    mask = torch.zeros(allowed.shape, dtype=dtype).masked_fill(~allowed.cpu(), torch.finfo(dtype).min)
    return mask[None, None]


@torch.no_grad()
def hidden_with_rope(model, ids: torch.Tensor, scaling: dict | None = None, attention_mask=None) -> torch.Tensor:
    """SmolLM2's last hidden states (B, T, C) for ids (B, T), its RoPE replaced by `scaling`'s frequencies."""
    head_dim, base = rope_settings(model)
    inner = model.model
    T = ids.shape[1]
    inv_freq, scale = rope_inv_freq(head_dim, base, scaling, seq_len=T)  # dynamic: stretched for this length
    positions = torch.arange(T, device=ids.device)
    cos, sin = (t[None].to(ids.device) for t in rope_cos_sin(positions.cpu(), inv_freq, scale))  # (1, T, d)
    hidden = inner.embed_tokens(ids)  # (B, T, C)
    cos, sin = cos.to(hidden.dtype), sin.to(hidden.dtype)
    mask = attention_mask
    if mask is None and model.config._attn_implementation == "eager":  # SDPA is causal when given no mask
        mask = causal_additive_mask(T, ids.device, hidden.dtype)
    for layer in inner.layers[: model.config.num_hidden_layers]:
        out = layer(hidden, attention_mask=mask, position_ids=positions[None], position_embeddings=(cos, sin))
        hidden = out[0] if isinstance(out, tuple) else out  # older transformers return a tuple
    return inner.norm(hidden)


@torch.no_grad()
def logits_with_rope(model, ids: torch.Tensor, scaling: dict | None = None, attention_mask=None) -> torch.Tensor:
    """(B, T, V) logits; for short inputs (the tests)."""
    return model.lm_head(hidden_with_rope(model, ids, scaling, attention_mask))


@torch.no_grad()
def loss_by_position(model, ids: torch.Tensor, scaling: dict | None = None) -> np.ndarray:
    """-log p(next token) at positions 0 .. T-2, averaged over the batch: (T-1,)."""
    hidden = hidden_with_rope(model, ids, scaling)[:, :-1]  # (B, T-1, C)
    targets = ids[:, 1:]
    losses = []
    for start in range(0, hidden.shape[1], LOGIT_CHUNK):
        logits = model.lm_head(hidden[:, start : start + LOGIT_CHUNK]).float()  # (B, chunk, V)
        chunk = targets[:, start : start + LOGIT_CHUNK]
        losses.append(F.cross_entropy(logits.transpose(1, 2), chunk, reduction="none"))  # (B, chunk)
    return torch.cat(losses, 1).mean(0).cpu().numpy()


def text_windows(tokenizer, articles, length: int, windows: int) -> torch.Tensor:
    """(windows, length) token ids: the start of each of the first `windows` articles at least `length` tokens long.

    articles: (title, lines) pairs (models.corpora.wiki_articles()). One article per window, so every position's
    context is one coherent text."""
    picked = []
    for _title, lines in articles:
        if len(picked) == windows:
            break
        text = "\n".join(lines)
        if len(text) < 3 * length:  # too short to reach `length` tokens (about 4 characters each)
            continue
        ids = tokenizer(text[: 8 * length], add_special_tokens=False)["input_ids"]
        if len(ids) >= length:
            picked.append(ids[:length])
    if len(picked) < windows:
        raise ValueError(f"Only {len(picked)} articles of the text reach {length:,} tokens; ask for fewer windows.")
    return torch.tensor(picked)


def scalings(head_dim: int, base: float, trained_len: int, factor: float) -> dict[str, dict]:
    """The lesson's four: none, linear (PI) by s, dynamic NTK (stretched to the length read), YaRN by s."""
    return scaling_table(head_dim, base, trained_len, factor)


def scaled_curves(model, ids: torch.Tensor, config: SmolScalingConfig) -> dict[str, np.ndarray]:
    """Loss by position (T-1,) under each scaling, the same windows for all."""
    head_dim, base = rope_settings(model)
    table = scalings(head_dim, base, config.trained_len, config.factor)
    curves, by_rope = {}, {}  # the same frequencies and scale give the same forward: read once
    for name, scaling in table.items():
        inv_freq, scale = rope_inv_freq(head_dim, base, scaling, seq_len=ids.shape[1])
        key = (inv_freq.numpy().tobytes(), scale)
        if key not in by_rope:
            by_rope[key] = loss_by_position(model, ids, scaling)
        curves[name] = by_rope[key]
    return curves


def bucketed(losses: np.ndarray, bucket: int) -> tuple[np.ndarray, np.ndarray]:
    """(bucket starts, mean loss per bucket); a last partial bucket is averaged over what it has."""
    starts = np.arange(0, len(losses), bucket)
    return starts, np.array([losses[s : s + bucket].mean() for s in starts])
