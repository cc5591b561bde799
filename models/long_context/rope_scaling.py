"""RoPE scaling: how a model trained at one length stretches its rotary positions to reach further.

RoPE (Su et al. 2021, https://arxiv.org/abs/2104.09864) rotates the pair i of a head's dimensions by the angle
m * theta_i at position m, with theta_i = base^(-2i/d) (the "inverse frequency"; its wavelength is 2 pi / theta_i).
A model trained at length L has only seen angles m * theta_i for m < L. Past L the fast pairs wrap around (they saw
every angle), the slow pairs meet angles they never saw. Each scaling changes theta_i (transformers' names):

- "linear", position interpolation (Chen et al. 2023, https://arxiv.org/abs/2306.15595): theta_i / s for a factor
  s, so s * L positions map onto the angles of L. Every pair slows down, the fast ones too (neighbours blur).
- "dynamic", NTK-aware (bloc97 2023; dynamic NTK in Code Llama / transformers): a larger base,
  base' = base * (s * T / L - (s - 1))^(d / (d - 2)) at the current length T > L: the slowest pair is interpolated
  by about T / L, the fastest is left alone.
- "yarn" (Peng et al. 2023, https://arxiv.org/abs/2309.00071): per pair, by how many turns r_i = L / wavelength_i
  it makes within L: r_i > beta_fast turns, keep theta_i (extrapolate); r_i < beta_slow, theta_i / s (interpolate);
  a linear ramp between. And a temperature: cos and sin are multiplied by 0.1 ln(s) + 1 (the attention scale).
- "llama3" (Meta 2024): the same idea with wavelength thresholds L / low_freq_factor and L / high_freq_factor.

`rope_inv_freq` returns (inv_freq, attention_scale) exactly as transformers' `ROPE_INIT_FUNCTIONS` do
(tests/models/test_long_context.py checks all five on the same configs).
"""

from __future__ import annotations

import math

import torch

ROPE_TYPES = ("default", "linear", "dynamic", "yarn", "llama3")


def default_inv_freq(head_dim: int, base: float) -> torch.Tensor:
    """theta_i = base^(-2i/d) for i = 0 .. d/2 - 1. Returns (d/2,)."""
    return 1.0 / base ** (torch.arange(0, head_dim, 2, dtype=torch.int64).float() / head_dim)


def _check(head_dim: int, base: float, scaling: dict) -> tuple[str, float]:
    rope_type = scaling.get("rope_type", "default")
    if rope_type not in ROPE_TYPES:
        raise ValueError(f"Unknown RoPE scaling {rope_type!r}: use one of {', '.join(ROPE_TYPES)}.")
    if head_dim < 2 or head_dim % 2:
        raise ValueError(f"RoPE rotates pairs of dimensions: the head dimension must be even (got {head_dim}).")
    if not base > 1:
        raise ValueError(f"The RoPE base must be above 1 (got {base}).")
    factor = float(scaling.get("factor", 1.0))
    if rope_type != "default" and not factor >= 1:
        raise ValueError(f"A scaling factor stretches the context: it must be at least 1 (got {factor:g}).")
    if rope_type in ("dynamic", "yarn", "llama3") and int(scaling.get("original_max_position_embeddings", 0)) < 1:
        raise ValueError(f"{rope_type} needs original_max_position_embeddings: the length the model trained at.")
    return rope_type, factor


def yarn_attention_scale(factor: float, mscale: float = 1.0) -> float:
    """YaRN's sqrt(1/t) = 0.1 * mscale * ln(s) + 1 (1 for s <= 1), multiplied into cos and sin."""
    return 1.0 if factor <= 1 else 0.1 * mscale * math.log(factor) + 1.0


def yarn_ramp(head_dim: int, base: float, original_length: int, beta_fast: float, beta_slow: float) -> torch.Tensor:
    """Per pair: 0 = keep theta_i (many turns within L), 1 = divide by s (under one turn); a linear ramp between.

    The pair that makes r turns within L is i(r) = d * ln(L / (2 pi r)) / (2 ln base), rounded outwards.
    """

    def pair_with_turns(turns: float) -> float:
        return head_dim * math.log(original_length / (turns * 2 * math.pi)) / (2 * math.log(base))

    low = max(math.floor(pair_with_turns(beta_fast)), 0)
    high = min(math.ceil(pair_with_turns(beta_slow)), head_dim - 1)
    if low == high:
        high += 0.001  # a ramp of width 0 would divide by 0
    pairs = torch.arange(head_dim // 2, dtype=torch.float32)
    return ((pairs - low) / (high - low)).clamp(0, 1)  # (d/2,)


def rope_inv_freq(
    head_dim: int, base: float = 10000.0, scaling: dict | None = None, seq_len: int | None = None
) -> tuple[torch.Tensor, float]:
    """(inv_freq (d/2,), attention_scale) for RoPE with one of transformers' rope_types.

    scaling: {"rope_type": ..., "factor": s, "original_max_position_embeddings": L, ...} (yarn: beta_fast,
    beta_slow, attention_factor; llama3: low_freq_factor, high_freq_factor). seq_len: the current length, for
    "dynamic" (at most L: no change).
    """
    scaling = dict(scaling or {})
    rope_type, factor = _check(head_dim, base, scaling)
    if rope_type == "default":
        return default_inv_freq(head_dim, base), 1.0
    if rope_type == "linear":
        return default_inv_freq(head_dim, base) / factor, 1.0
    original = int(scaling["original_max_position_embeddings"])
    if rope_type == "dynamic":
        length = max(seq_len or original, original)
        stretched_base = base * ((factor * length / original) - (factor - 1)) ** (head_dim / (head_dim - 2))
        return default_inv_freq(head_dim, stretched_base), 1.0
    if rope_type == "yarn":
        extrapolated = default_inv_freq(head_dim, base)
        interpolated = extrapolated / factor
        ramp = yarn_ramp(
            head_dim, base, original, scaling.get("beta_fast") or 32, scaling.get("beta_slow") or 1
        )  # (d/2,): 1 = interpolate
        inv_freq = extrapolated * (1 - ramp) + interpolated * ramp
        scale = scaling.get("attention_factor")
        return inv_freq, float(scale) if scale is not None else yarn_attention_scale(factor)
    # llama3: wavelengths above L / low_freq_factor are divided by s, below L / high_freq_factor kept, smooth between
    inv_freq = default_inv_freq(head_dim, base)
    low_freq_factor = scaling.get("low_freq_factor", 1.0)
    high_freq_factor = scaling.get("high_freq_factor", 4.0)
    wavelength = 2 * math.pi / inv_freq
    smooth = (original / wavelength - low_freq_factor) / (high_freq_factor - low_freq_factor)
    blended = (1 - smooth) * inv_freq / factor + smooth * inv_freq
    scaled = torch.where(wavelength > original / low_freq_factor, inv_freq / factor, inv_freq)
    medium = (wavelength >= original / high_freq_factor) & (wavelength <= original / low_freq_factor)
    return torch.where(medium, blended, scaled), 1.0


def rope_cos_sin(positions: torch.Tensor, inv_freq: torch.Tensor, attention_scale: float = 1.0):
    """cos, sin (T, d) for positions (T,), Llama's layout: pair i is (i, i + d/2); both times the scale."""
    angles = positions.float()[:, None] * inv_freq[None, :]  # (T, d/2)
    angles = torch.cat((angles, angles), dim=-1)  # (T, d)
    return angles.cos() * attention_scale, angles.sin() * attention_scale


def rotate_half(x: torch.Tensor) -> torch.Tensor:
    x1, x2 = x.chunk(2, dim=-1)
    return torch.cat((-x2, x1), dim=-1)


def apply_rope(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    """Rotate x (B, H, T, d) by its positions' angles."""
    return x * cos + rotate_half(x) * sin


def scaling_table(head_dim: int, base: float, train_len: int, factor: float) -> dict[str, dict]:
    """The four scalings the lesson compares, as transformers configs, for a model trained at `train_len`."""
    original = {"original_max_position_embeddings": train_len}
    return {
        "none (extrapolate)": {"rope_type": "default"},
        "linear (PI)": {"rope_type": "linear", "factor": factor},
        "NTK-aware (dynamic)": {"rope_type": "dynamic", "factor": 1.0, **original},
        "YaRN": {"rope_type": "yarn", "factor": factor, **original},
    }


def max_angle_seen(inv_freq: torch.Tensor, length: int) -> torch.Tensor:
    """Per pair, the largest angle (radians) reached at positions < length, capped at one full turn. (d/2,)"""
    return ((length - 1) * inv_freq).clamp(max=2 * math.pi)
