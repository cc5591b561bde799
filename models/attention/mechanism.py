"""Scaled dot-product attention and multi-head attention, written out step by step.

Attention (Vaswani et al. 2017, https://arxiv.org/abs/1706.03762):

    weights = softmax(Q K^T * scale / temperature + mask),  scale = 1 / sqrt(d_head)
    output  = weights V

Each query row of `weights` is a probability distribution over the keys; the page plots it.
Grouped-query attention (Ainslie et al. 2023, https://arxiv.org/abs/2305.13245) shares each
key/value head between several query heads, as Llama and SmolLM2 do.

Masks: a boolean mask means True = may attend; a float mask is added to the scaled scores
(0 = keep, -inf = drop; ALiBi is such a float mask). `causal=True` lets query i see keys j <= i
(top-left aligned, like torch's scaled_dot_product_attention). A query row with no key left to
attend to gets all-zero weights and a zero output, rather than the NaN a plain softmax gives.
"""

import math

import torch
from torch import nn

from models.attention.positional import apply_rope


def repeat_kv(x: torch.Tensor, n_repeats: int) -> torch.Tensor:
    """Share each key/value head with n_repeats query heads: (B, H_kv, T, D) -> (B, H_kv*n, T, D).

    Head h of the result is kv head h // n_repeats (the layout of Llama and torch's enable_gqa).
    """
    if n_repeats == 1:
        return x
    return x.repeat_interleave(n_repeats, dim=-3)


def _softmax_rows(masked_scores: torch.Tensor, may_be_fully_masked: bool = True) -> torch.Tensor:
    """Softmax over the last dim; a row that is all -inf gives zeros instead of NaN."""
    compute_dtype = torch.float32 if masked_scores.dtype in (torch.float16, torch.bfloat16) else None
    if not may_be_fully_masked:  # a causal mask alone always leaves key 0
        return torch.softmax(masked_scores, dim=-1, dtype=compute_dtype).to(masked_scores.dtype)
    fully_masked = masked_scores.amax(dim=-1, keepdim=True) == float("-inf")  # (..., Tq, 1)
    safe_scores = masked_scores.masked_fill(fully_masked, 0.0)
    weights = torch.softmax(safe_scores, dim=-1, dtype=compute_dtype).to(masked_scores.dtype)
    return weights.masked_fill(fully_masked, 0.0)


def _share_kv_heads(q, k, v):
    """Grouped-query attention: repeat k, v (..., Hkv, T, D) to q's number of heads."""
    if q.dim() < 3 or k.shape[-3] == q.shape[-3]:
        return k, v
    n_repeats = q.shape[-3] // k.shape[-3]
    if n_repeats * k.shape[-3] != q.shape[-3]:
        raise ValueError(f"{q.shape[-3]} query heads is not a multiple of {k.shape[-3]} kv heads")
    return repeat_kv(k, n_repeats), repeat_kv(v, n_repeats)


def _future(n_queries: int, n_keys: int, device) -> torch.Tensor:
    """True where key j lies after query i (top-left aligned, like torch's is_causal)."""
    return torch.ones(n_queries, n_keys, dtype=torch.bool, device=device).triu(1)


def attention_steps(
    q: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
    mask: torch.Tensor | None = None,
    causal: bool = False,
    scale: float | None = None,
    temperature: float = 1.0,
) -> dict[str, torch.Tensor]:
    """Every intermediate of attention, for a step-through.

    q: (..., Hq, Tq, D); k, v: (..., Hkv, Tk, D) with Hq a multiple of Hkv (the heads dimension may
    be absent when Hq == Hkv). mask: bool (True = attend) or float (added), broadcastable to
    (..., Hq, Tq, Tk). Returns a dict: scores, scaled_scores, masked_scores, weights (..., Tq, Tk)
    and output (..., Tq, D).
    """
    k, v = _share_kv_heads(q, k, v)
    if scale is None:
        scale = 1.0 / math.sqrt(q.shape[-1])

    scores = q @ k.transpose(-2, -1)  # (..., Tq, Tk)
    scaled_scores = scores * (scale / temperature)
    masked_scores = scaled_scores
    if mask is not None and mask.dtype == torch.bool:
        masked_scores = masked_scores.masked_fill(~mask, float("-inf"))
    elif mask is not None:
        masked_scores = masked_scores + mask
    if causal:
        future = _future(scores.shape[-2], scores.shape[-1], q.device)
        masked_scores = masked_scores.masked_fill(future, float("-inf"))
    weights = _softmax_rows(masked_scores)  # (..., Tq, Tk), rows sum to 1 (or 0 if fully masked)
    output = weights @ v  # (..., Tq, D)
    return {
        "scores": scores,
        "scaled_scores": scaled_scores,
        "masked_scores": masked_scores,
        "weights": weights,
        "output": output,
    }


def scaled_dot_product_attention(
    q: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
    mask: torch.Tensor | None = None,
    causal: bool = False,
    scale: float | None = None,
    temperature: float = 1.0,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Attention output (..., Tq, D) and weights (..., Tq, Tk).

    The same arithmetic as `attention_steps`, with fewer passes over the (Tq, Tk) scores: the
    scale is folded into q and the causal mask is applied in place.
    """
    k, v = _share_kv_heads(q, k, v)
    if scale is None:
        scale = 1.0 / math.sqrt(q.shape[-1])
    scores = (q * (scale / temperature)) @ k.transpose(-2, -1)  # (..., Tq, Tk), already scaled
    if mask is not None and mask.dtype == torch.bool:
        scores = scores.masked_fill(~mask, float("-inf"))
    elif mask is not None:
        scores = scores + mask
    if causal:
        scores.masked_fill_(_future(scores.shape[-2], scores.shape[-1], q.device), float("-inf"))
    weights = _softmax_rows(scores, may_be_fully_masked=mask is not None)
    return weights @ v, weights  # (..., Tq, D), (..., Tq, Tk)


class MultiHeadAttention(nn.Module):
    """Multi-head (or grouped-query) self-attention, nanoGPT style.

    Weight layout matches torch.nn.MultiheadAttention: `in_proj` stacks the q, k, v projections by
    rows (its weight is MHA's `in_proj_weight` when n_kv_heads == n_heads), `out_proj` is MHA's
    `out_proj`. With grouped-query attention the rows are q (H*D), then k (Hkv*D), then v (Hkv*D),
    so Llama's q_proj, k_proj, v_proj weights concatenate into it.
    """

    def __init__(self, d_model: int, n_heads: int, n_kv_heads: int | None = None, bias: bool = True):
        super().__init__()
        n_kv_heads = n_kv_heads or n_heads
        if d_model % n_heads or n_heads % n_kv_heads:
            raise ValueError("d_model must divide by n_heads, and n_heads by n_kv_heads")
        self.n_heads, self.n_kv_heads = n_heads, n_kv_heads
        self.head_dim = d_model // n_heads
        qkv_size = (n_heads + 2 * n_kv_heads) * self.head_dim
        self.in_proj = nn.Linear(d_model, qkv_size, bias=bias)
        self.out_proj = nn.Linear(d_model, d_model, bias=bias)

    def forward(
        self,
        x: torch.Tensor,
        mask: torch.Tensor | None = None,
        causal: bool = False,
        need_weights: bool = True,
        rope: tuple[torch.Tensor, torch.Tensor] | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """x: (B, T, C). mask broadcastable to (B, H, T, T); rope: (cos, sin) from positional.py.

        Returns the output (B, T, C) and the weights (B, H, T, T), or None if not need_weights.
        """
        batch, seq_len, _ = x.shape
        q_size, kv_size = self.n_heads * self.head_dim, self.n_kv_heads * self.head_dim
        q, k, v = self.in_proj(x).split([q_size, kv_size, kv_size], dim=-1)
        q = q.view(batch, seq_len, self.n_heads, self.head_dim).transpose(1, 2)  # (B, H, T, D)
        k = k.view(batch, seq_len, self.n_kv_heads, self.head_dim).transpose(1, 2)  # (B, Hkv, T, D)
        v = v.view(batch, seq_len, self.n_kv_heads, self.head_dim).transpose(1, 2)  # (B, Hkv, T, D)
        if rope is not None:
            q, k = apply_rope(q, k, *rope)
        out, weights = scaled_dot_product_attention(q, k, v, mask=mask, causal=causal)
        out = out.transpose(1, 2).reshape(batch, seq_len, q_size)  # (B, T, C): heads side by side
        return self.out_proj(out), (weights if need_weights else None)
