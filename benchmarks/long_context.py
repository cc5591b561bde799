"""Long-context benchmarks: attention with a sparse mask, ours against torch's scaled_dot_product_attention with the
same mask, from 256 to 8,192 tokens (quick: 256, 1,024, 4,096); and our RoPE against transformers' rotary embedding.

- "textbook": softmax(QKᵀ/√d + mask)V over all T² scores (models/long_context/patterns.py `masked_attention`),
  the page's reference arithmetic; SDPA runs the same mask through torch's fused kernel.
- "sparse": each query's kept keys gathered (`sparse_attention`): T·k scores instead of T², equal to SDPA.
- "block-sparse": per block of 128 queries, the keys any of them sees, gathered once, then SDPA on the block
  (`block_sparse_attention`): block × (block + w) scores per block; equal to SDPA.
- RoPE: cos/sin from `rope_inv_freq` (YaRN) and the rotation, against transformers' LlamaRotaryEmbedding and
  apply_rotary_pos_emb on the same q, k (checked equal).
Ratios are throughput, ours ÷ SDPA's (> 1: ours faster). Score memory is by formula (fp32).
"""

from __future__ import annotations

import torch

from benchmarks.timing import median_seconds, row
from models.long_context.patterns import (
    attention_pattern,
    block_sparse_attention,
    key_indices,
    masked_attention,
    query_blocks,
    sparse_attention,
)
from models.long_context.rope_scaling import apply_rope, rope_cos_sin, rope_inv_freq


def _row(task, ours, reference, unit, note):
    return row("long_context", task, ours, reference, unit, note)


def attention_rows(lengths, device: str, repeats: int, heads: int = 4, head_dim: int = 64) -> list[dict]:
    rows = []
    for length in lengths:
        generator = torch.Generator().manual_seed(0)
        q, k, v = (t.to(device) for t in torch.randn(3, 1, heads, length, head_dim, generator=generator).unbind(0))
        for kind in ("window", "longformer"):
            mask = attention_pattern(kind, length, window=128, global_tokens=(0,)).to(device)
            indices, valid = (t.to(device) for t in key_indices(mask.cpu()))
            blocks = [(start, keys.to(device), m.to(device)) for start, keys, m in query_blocks(mask.cpu(), 128)]
            reference = torch.nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=mask)
            error = float((sparse_attention(q, k, v, indices, valid) - reference).abs().max())
            block_error = float((block_sparse_attention(q, k, v, blocks) - reference).abs().max())
            ways = {
                "sdpa": lambda: torch.nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=mask),  # noqa: B023
                "textbook": lambda: masked_attention(q, k, v, mask),  # noqa: B023
                "sparse": lambda: sparse_attention(q, k, v, indices, valid),  # noqa: B023
                "block": lambda: block_sparse_attention(q, k, v, blocks),  # noqa: B023
            }  # each is timed right here, inside this iteration
            sdpa, textbook, sparse, block = (median_seconds(fn, device, repeats) for fn in ways.values())
            kept = int(mask.sum()) * heads
            note = (f"{heads} heads × {head_dim}, window 128; scores: T² {4 * heads * length**2 / 2**20:,.1f} MiB, "
                    f"kept {4 * kept / 2**20:,.2f} MiB; max abs Δ from SDPA: sparse {error:.1e}, block {block_error:.1e}")  # fmt: skip
            rows.append(_row(f"{kind}, T = {length:,}: textbook masked", 1 / textbook, 1 / sdpa, "calls/s", note))
            rows.append(_row(f"{kind}, T = {length:,}: sparse gathered", 1 / sparse, 1 / sdpa, "calls/s", note))
            rows.append(_row(f"{kind}, T = {length:,}: block-sparse", 1 / block, 1 / sdpa, "calls/s", note))
    return rows


def rope_rows(device: str, repeats: int, length: int = 4096, heads: int = 8, head_dim: int = 64) -> list[dict]:
    from transformers import LlamaConfig
    from transformers.models.llama.modeling_llama import LlamaRotaryEmbedding, apply_rotary_pos_emb

    scaling = {"rope_type": "yarn", "factor": 4.0, "original_max_position_embeddings": 1024}
    config = LlamaConfig(hidden_size=heads * head_dim, num_attention_heads=heads, head_dim=head_dim,
                         max_position_embeddings=4096, rope_parameters={"rope_theta": 10000.0, **scaling})  # fmt: skip
    rotary = LlamaRotaryEmbedding(config).to(device)
    q, k = torch.randn(2, 1, heads, length, head_dim, generator=torch.Generator().manual_seed(0)).to(device).unbind(0)
    positions = torch.arange(length, device=device)
    inv_freq, scale = rope_inv_freq(head_dim, 10000.0, scaling)
    inv_freq = inv_freq.to(device)

    def ours():
        cos, sin = rope_cos_sin(positions, inv_freq, scale)
        return apply_rope(q, cos, sin), apply_rope(k, cos, sin)

    def theirs():
        cos, sin = rotary(q, positions[None])
        return apply_rotary_pos_emb(q, k, cos, sin)

    same = all(torch.allclose(a, b, atol=1e-4) for a, b in zip(ours(), theirs()))
    t_ours, t_theirs = median_seconds(ours, device, repeats), median_seconds(theirs, device, repeats)
    note = f"YaRN s = 4, {heads} heads × {head_dim}, {length:,} positions; same q, k after rotation: {same}"
    return [_row("RoPE (YaRN) cos/sin + rotation", 1 / t_ours, 1 / t_theirs, "calls/s", note)]


def run(quick: bool = True, device: str = "cpu") -> list[dict]:
    lengths = (256, 1024, 4096) if quick else (256, 1024, 2048, 4096, 8192)
    repeats = 5 if quick else 10
    return attention_rows(lengths, device, repeats) + rope_rows(device, repeats)


if __name__ == "__main__":
    for row in run(quick=True):
        print(row)
