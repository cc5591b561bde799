"""Positional information for attention: sinusoidal, learned, RoPE and ALiBi.

Attention by itself is permutation-equivariant: shuffle the tokens and the outputs shuffle the
same way. Each scheme below tells the model where a token sits.

- Sinusoidal (Vaswani et al. 2017, https://arxiv.org/abs/1706.03762, section 3.5): a fixed
  vector per position, added to the token embedding.
  PE[pos, 2i] = sin(pos / base^(2i/d)), PE[pos, 2i+1] = cos(pos / base^(2i/d)).
- Learned (GPT-2 / BERT): a trainable vector per position, added to the token embedding.
- RoPE (Su et al. 2021, https://arxiv.org/abs/2104.09864): rotate each (q, k) pair of dimensions
  by an angle proportional to the position, so q_m . k_n depends only on m - n. Same convention as
  Llama in transformers: the pairs are (i, i + d/2) and `rotate_half` maps (x1, x2) to (-x2, x1).
- ALiBi (Press et al. 2021, https://arxiv.org/abs/2108.12409): no embedding at all; add
  -slope_h * |i - j| to the attention scores, one slope per head (a geometric sequence).
"""

import math

import torch
from torch import nn

# ----------------------------------------------------------------------------- sinusoidal, learned


def sinusoidal_positions(n_positions: int, d_model: int, base: float = 10000.0) -> torch.Tensor:
    """The fixed table of the original Transformer, interleaved sin/cos. Returns (T, C)."""
    position = torch.arange(n_positions, dtype=torch.float64)[:, None]  # (T, 1)
    pair_index = torch.arange(0, d_model, 2, dtype=torch.float64)  # (ceil(C/2),) = 2i
    angle = position / base ** (pair_index / d_model)  # (T, ceil(C/2))
    table = torch.zeros(n_positions, d_model, dtype=torch.float64)
    table[:, 0::2] = torch.sin(angle)
    table[:, 1::2] = torch.cos(angle[:, : d_model // 2])
    return table.float()


class LearnedPositionalEmbedding(nn.Module):
    """One trainable vector per position (GPT-2's `wpe`), added to the token embeddings."""

    def __init__(self, n_positions: int, d_model: int):
        super().__init__()
        self.embedding = nn.Embedding(n_positions, d_model)
        nn.init.normal_(self.embedding.weight, std=0.02)

    def forward(self, seq_len: int) -> torch.Tensor:
        positions = torch.arange(seq_len, device=self.embedding.weight.device)
        return self.embedding(positions)  # (T, C)


def position_similarity(pe: torch.Tensor) -> torch.Tensor:
    """Cosine similarity between every pair of position vectors: (T, C) -> (T, T)."""
    unit = nn.functional.normalize(pe.float(), dim=-1)
    return unit @ unit.T


def similarity_against_distance(pe: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean cosine similarity of positions d apart, for d = 0 .. T-1. Returns (distances, means)."""
    similarity = position_similarity(pe)  # (T, T)
    n = similarity.shape[0]
    means = torch.stack([torch.diagonal(similarity, offset=d).mean() for d in range(n)])
    return torch.arange(n), means


# ----------------------------------------------------------------------------- RoPE


def rope_cos_sin(
    positions: int | torch.Tensor,
    head_dim: int,
    base: float = 10000.0,
    device: str | torch.device | None = None,
    dtype: torch.dtype = torch.float32,
) -> tuple[torch.Tensor, torch.Tensor]:
    """cos and sin tables for RoPE, as Llama builds them. positions: an int T or ids (..., T).

    Returns cos, sin of shape (T, D) (or (..., T, D) for a tensor of position ids).
    """
    if isinstance(positions, int):
        positions = torch.arange(positions, device=device)
    # (D/2,) one frequency per pair of dimensions
    inv_freq = 1.0 / base ** (torch.arange(0, head_dim, 2, dtype=torch.float32, device=positions.device) / head_dim)
    angles = positions.float()[..., None] * inv_freq  # (..., T, D/2)
    angles = torch.cat((angles, angles), dim=-1)  # (..., T, D): pair i is (i, i + D/2)
    return angles.cos().to(dtype), angles.sin().to(dtype)


def rotate_half(x: torch.Tensor) -> torch.Tensor:
    """(x1, x2) -> (-x2, x1) on the two halves of the last dimension."""
    x1, x2 = x.chunk(2, dim=-1)
    return torch.cat((-x2, x1), dim=-1)


def apply_rope(
    q: torch.Tensor, k: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """Rotate queries and keys (B, H, T, D) by their position. cos, sin: (T, D) or (B, T, D)."""
    if cos.dim() == 3:  # per-batch position ids: add the head dimension
        cos, sin = cos[:, None], sin[:, None]  # (B, 1, T, D)
    q_rotated = q * cos + rotate_half(q) * sin
    k_rotated = k * cos + rotate_half(k) * sin
    return q_rotated, k_rotated


def rope_score_against_distance(head_dim: int, max_distance: int, base: float = 10000.0) -> torch.Tensor:
    """q . k after RoPE for q = k = all ones, as the distance m - n grows (RoFormer section 3.4.3).

    Shows RoPE's long-term decay: the same two vectors score less the further apart they sit.
    Returns (max_distance,).
    """
    cos, sin = rope_cos_sin(max_distance, head_dim, base, dtype=torch.float64)  # (T, D)
    ones = torch.ones(1, 1, max_distance, head_dim, dtype=torch.float64)
    q_rotated, k_rotated = apply_rope(ones, ones, cos, sin)  # (1, 1, T, D)
    return (q_rotated[0, 0, :] @ k_rotated[0, 0, 0]).float()  # query at m, key at 0


# ----------------------------------------------------------------------------- ALiBi


def _geometric_slopes(n: int) -> list[float]:
    start = 2.0 ** (-8.0 / n)  # for n heads: 2^(-8/n), 2^(-16/n), ..., 2^(-8)
    return [start ** (i + 1) for i in range(n)]


def alibi_slopes(n_heads: int) -> torch.Tensor:
    """One slope per head, as in the paper and BLOOM. Returns (H,).

    For a power of two: 2^(-8/n) ... 2^(-8). Otherwise the slopes of the closest smaller power of
    two, then every other slope of twice that power, until there are n_heads of them.
    """
    closest_power = 2 ** math.floor(math.log2(n_heads))
    slopes = _geometric_slopes(closest_power)
    if closest_power < n_heads:
        extra = _geometric_slopes(2 * closest_power)[0::2]
        slopes += extra[: n_heads - closest_power]
    return torch.tensor(slopes, dtype=torch.float32)


def alibi_bias(n_heads: int, seq_len: int, device: str | torch.device | None = None) -> torch.Tensor:
    """Additive attention bias -slope_h * |i - j|. Returns (H, T, T), added to the scaled scores.

    With a causal mask only j <= i survives, where this equals the paper's -slope * (i - j).
    """
    positions = torch.arange(seq_len, device=device)
    distance = (positions[:, None] - positions[None, :]).abs().float()  # (T, T)
    slopes = alibi_slopes(n_heads).to(device)
    return -slopes[:, None, None] * distance  # (H, T, T)
