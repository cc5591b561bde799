"""Efficient attention patterns: which keys each query may see, what that costs, and how far it reaches.

Full attention costs O(T^2) scores per head. A sparse pattern keeps a few keys per query (a bool mask M, M[i, j]
= query i may attend to key j) and pays for those only:

- "window" (local, sliding): j in (i - w, i] (Longformer's band, Beltagy et al. 2020,
  https://arxiv.org/abs/2004.05150); "dilated": the same w keys spaced `dilation` apart.
- "strided" (Sparse Transformer, Child et al. 2019, https://arxiv.org/abs/1904.10509): the last `stride` keys plus
  every key a multiple of `stride` back: two hops reach anything.
- "longformer": the window plus global tokens that see, and are seen by, every token; "bigbird" (Zaheer et al.
  2020, https://arxiv.org/abs/2007.14062) adds a few random keys per query.
- "xl" (Transformer-XL, Dai et al. 2019, https://arxiv.org/abs/1901.02860): segments of `segment` tokens, each
  attending to itself and to the cached previous segment (the memory).

Reach: stacking L layers composes the pattern, (M^L)[i, j] > 0 when information can flow from j to i. A window of w
reaches about L * (w - 1) back; Transformer-XL's memory L * segment; full attention everything in one layer.
`sparse_attention` gathers each query's keys (O(T * k) memory) and equals torch's SDPA with the same mask;
`block_sparse_attention` gathers the keys of a block of queries at once (what block-sparse kernels do: Sparse
Transformer, BigBird) and runs SDPA on each block: block x (block + w) scores per block instead of block x T.
Linformer (Wang et al. 2020, https://arxiv.org/abs/2006.04768) projects the T keys and values to k rows:
softmax(Q (E K)^T / sqrt(d)) (F V), O(T * k).
"""

from __future__ import annotations

import math

import torch
from torch.nn import functional as F

PATTERNS = ("full", "causal", "window", "dilated", "strided", "longformer", "bigbird", "xl")
MAX_PATTERN_LEN = 8192  # a bool mask of T^2: 64 MB at 8,192


def attention_pattern(
    kind: str,
    length: int,
    window: int = 16,
    dilation: int = 2,
    stride: int = 16,
    global_tokens=(0,),
    random_keys: int = 2,
    segment: int = 32,
    causal: bool = True,
    seed: int = 0,
) -> torch.Tensor:
    """Bool mask (length, length): True where query i may attend to key j."""
    if kind not in PATTERNS:
        raise ValueError(f"Unknown pattern {kind!r}: use one of {', '.join(PATTERNS)}.")
    if not 2 <= length <= MAX_PATTERN_LEN:
        raise ValueError(f"Patterns here have 2 to {MAX_PATTERN_LEN:,} tokens (got {length:,}).")
    if kind in ("window", "dilated", "longformer", "bigbird") and not 1 <= window <= length:
        raise ValueError(f"The window ({window}) must be between 1 and the input's {length} tokens.")
    if kind == "strided" and not 1 <= stride <= length:
        raise ValueError(f"The stride ({stride}) must be between 1 and the input's {length} tokens.")
    if kind == "xl" and not 1 <= segment <= length:
        raise ValueError(f"The segment ({segment}) must be between 1 and the input's {length} tokens.")
    if kind == "dilated" and dilation < 1:
        raise ValueError(f"The dilation must be at least 1 (got {dilation}).")
    i = torch.arange(length)[:, None]  # queries
    j = torch.arange(length)[None, :]  # keys
    back = i - j  # how far back the key sits (negative: in the future)
    distance = back if causal else back.abs()
    if kind == "full":
        mask = torch.ones(length, length, dtype=torch.bool)
    elif kind == "causal":
        mask = back >= 0
    elif kind == "window":
        mask = (distance >= 0) & (distance < (window if causal else window // 2 + 1))
    elif kind == "dilated":
        reach = window * dilation if causal else (window // 2) * dilation + 1
        mask = (distance >= 0) & (distance < reach) & (distance % dilation == 0)
    elif kind == "strided":
        mask = (distance >= 0) & ((distance < stride) | (distance % stride == 0))
    elif kind == "xl":
        segments_back = i // segment - j // segment
        same_or_previous = (segments_back == 0) | (segments_back == 1)
        mask = same_or_previous & (back >= 0)
    else:  # longformer, bigbird: a window plus global tokens (plus random keys)
        mask = (distance >= 0) & (distance < (window if causal else window // 2 + 1))
        glob = torch.tensor([g for g in global_tokens if 0 <= g < length], dtype=torch.long)
        mask[:, glob] = True  # everyone sees the global tokens
        mask[glob, :] = True  # they see everyone
        if kind == "bigbird" and random_keys > 0:
            generator = torch.Generator().manual_seed(seed)
            picks = torch.randint(length, (length, random_keys), generator=generator)
            mask[i.expand(-1, random_keys), picks] = True
        if causal:
            mask &= back >= 0
    return mask


def check_keys(mask: torch.Tensor) -> None:
    if not mask.any(-1).all():
        raise ValueError("Some query attends to no key: softmax over nothing is undefined.")


def masked_attention(q, k, v, mask: torch.Tensor) -> torch.Tensor:
    """Textbook softmax(QK^T / sqrt(d) + mask) V over all T^2 scores. q, k, v (B, H, T, D); mask (T, T) bool."""
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])  # (B, H, T, T)
    scores = scores.masked_fill(~mask, float("-inf"))
    return torch.softmax(scores, dim=-1) @ v  # (B, H, T, D)


def key_indices(mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Each query's allowed keys, padded: indices (T, K) and valid (T, K), K = the most keys any query has."""
    counts = mask.sum(-1)  # (T,)
    width = int(counts.max())
    # stable sort puts the True columns first, in key order
    order = torch.argsort((~mask).to(torch.int8), dim=-1, stable=True)[:, :width]  # (T, K)
    valid = torch.arange(width)[None, :] < counts[:, None]  # (T, K)
    return order, valid


def sparse_attention(q, k, v, indices: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
    """The same attention computing only the K kept scores per query: (B, H, T, K) instead of (B, H, T, T)."""
    scale = 1.0 / math.sqrt(q.shape[-1])
    k_kept, v_kept = k[:, :, indices], v[:, :, indices]  # (B, H, T, K, D)
    scores = (q[..., None, :] @ k_kept.transpose(-2, -1))[..., 0, :] * scale  # (B, H, T, K)
    scores = scores.masked_fill(~valid, float("-inf"))
    weights = torch.softmax(scores, dim=-1)
    return (weights[..., None, :] @ v_kept)[..., 0, :]  # (B, H, T, D)


def query_blocks(mask: torch.Tensor, block: int = 128) -> list[tuple[int, torch.Tensor, torch.Tensor]]:
    """Block-sparse layout: per block of `block` queries, the keys any of them may see and the block's mask on those.

    Returns [(first query, key indices (K_b,), mask (block, K_b))]. A window of w gives K_b <= block + w - 1 keys, so
    the scores per block are block x (block + w) instead of block x T."""
    blocks = []
    for start in range(0, mask.shape[0], block):
        rows = mask[start : start + block]  # (b, T)
        keys = rows.any(0).nonzero()[:, 0]  # (K_b,)
        blocks.append((start, keys, rows[:, keys]))
    return blocks


def block_sparse_attention(q, k, v, blocks) -> torch.Tensor:
    """Each query block attends, through torch's fused kernel, to its own gathered keys only. q, k, v (B, H, T, D)."""
    out = torch.empty_like(q)
    for start, keys, block_mask in blocks:
        stop = start + block_mask.shape[0]
        k_block, v_block = k[:, :, keys], v[:, :, keys]  # (B, H, K_b, D)
        out[:, :, start:stop] = F.scaled_dot_product_attention(
            q[:, :, start:stop], k_block, v_block, attn_mask=block_mask
        )
    return out


def sdpa_attention(q, k, v, mask: torch.Tensor) -> torch.Tensor:
    """torch's fused kernel with the same mask: the reference."""
    return F.scaled_dot_product_attention(q, k, v, attn_mask=mask)


def reach_by_layer(mask: torch.Tensor, layers: int) -> list[int]:
    """For the last query: how many tokens back the earliest visible token sits after 1 .. `layers` layers."""
    last = mask.shape[0] - 1
    seen = mask[last].clone()  # (T,) what the last token sees after one layer
    step = mask.float()
    reach = []
    for _ in range(layers):
        reach.append(last - int(seen.nonzero().min()))
        seen = (seen.float() @ step > 0) | seen  # one more layer: what the seen tokens saw
    return reach


def layers_to_reach_start(mask: torch.Tensor, max_layers: int = 64) -> int | None:
    """Layers until the last token sees token 0 (None if it never does within `max_layers`)."""
    last = mask.shape[0] - 1
    seen, step = mask[last].clone(), mask.float()
    for layer in range(1, max_layers + 1):
        if seen[0]:
            return layer
        seen = (seen.float() @ step > 0) | seen
    return None


def cost(mask: torch.Tensor, head_dim: int, heads: int = 1) -> dict[str, float]:
    """Scores kept, multiply-adds (QK^T and weights @ V: 2 * kept * head_dim per head) and score memory (fp32)."""
    kept = int(mask.sum())
    return {
        "scores": kept * heads,
        "flops": 2 * 2 * kept * head_dim * heads,  # a multiply-add counted as 2 FLOPs
        "score_bytes": 4 * kept * heads,
        "density": kept / mask.numel(),
    }


def linformer_attention(q, k, v, E: torch.Tensor, F_: torch.Tensor) -> torch.Tensor:
    """softmax(Q (E K)^T / sqrt(d)) (F V). q, k, v (B, H, T, D); E, F (k, T) project the length T to k."""
    k_low, v_low = E @ k, F_ @ v  # (B, H, k, D)
    return torch.softmax(q @ k_low.transpose(-2, -1) / math.sqrt(q.shape[-1]), dim=-1) @ v_low  # (B, H, T, D)


def linformer_projections(rank: int, length: int, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Random Gaussian projections E, F (rank, length) with entries N(0, 1/rank) (Johnson-Lindenstrauss)."""
    generator = torch.Generator().manual_seed(seed)
    E = torch.randn(rank, length, generator=generator) / math.sqrt(rank)
    F_ = torch.randn(rank, length, generator=generator) / math.sqrt(rank)
    return E, F_


def xl_visible(length: int, segment: int, layers: int, memory: bool = True) -> torch.Tensor:
    """Tokens each position can draw on after `layers` layers (bool (T, T)), with Transformer-XL's memory of
    the previous segment (memory=True) or isolated segments, as in a vanilla segment-by-segment model."""
    if memory:
        mask = attention_pattern("xl", length, segment=segment)
    else:
        i, j = torch.arange(length)[:, None], torch.arange(length)[None, :]
        mask = (i // segment == j // segment) & (j <= i)
    seen, step = mask.clone(), mask.float()
    for _ in range(layers - 1):
        seen = (seen.float() @ step > 0) | seen
    return seen
