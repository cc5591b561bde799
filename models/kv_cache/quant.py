"""Fewer bits per cached value instead of fewer tokens: int8 / int4 KV-cache quantisation as KIVI does it.

KIVI (Liu et al. 2024, https://arxiv.org/abs/2402.02750) quantises keys **per channel** (a scale and zero point per
channel, shared by a group of tokens: key channels have outliers that a per-token scale would spread over the
whole row) and values **per token** (a scale and zero point per token). Asymmetric min-max rounding, b bits:

    scale = (max - min) / (2^b - 1),   code = round((x - min) / scale),   x_hat = code * scale + min

so every value comes back within scale / 2 of where it was. Tokens of the group still filling stay in full
precision (KIVI's residual). Codes are stored packed (two 4-bit codes per byte); scale and zero point in float16.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass
class Quantized:
    codes: torch.Tensor  # uint8, packed: 8 bits -> one code per byte, 4 bits -> two per byte
    scale: torch.Tensor  # float16, one per group
    zero: torch.Tensor  # float16 (the group minimum)
    bits: int
    shape: tuple  # the original shape
    axis: int  # the axis the statistics run over (reduced)

    def nbytes(self) -> int:
        return sum(t.numel() * t.element_size() for t in (self.codes, self.scale, self.zero))


def quantize(x: torch.Tensor, bits: int, axis: int) -> Quantized:
    """Min-max quantise `x` with statistics over `axis` (-1: per token over channels; -2: per channel)."""
    if bits not in (4, 8):
        raise ValueError("bits must be 8 or 4")
    low = x.amin(dim=axis, keepdim=True)
    high = x.amax(dim=axis, keepdim=True)
    scale = ((high - low) / (2**bits - 1)).clamp_min(1e-8)
    codes = ((x - low) / scale).round().clamp(0, 2**bits - 1).to(torch.uint8).flatten()
    if bits == 4:
        codes = torch.nn.functional.pad(codes, (0, codes.numel() % 2))
        codes = codes[0::2] | (codes[1::2] << 4)  # two codes per byte
    return Quantized(codes, scale.half(), low.half(), bits, tuple(x.shape), axis)


def dequantize(q: Quantized) -> torch.Tensor:
    codes = q.codes
    if q.bits == 4:
        codes = torch.stack([codes & 0xF, codes >> 4], dim=-1).flatten()
    n = 1
    for size in q.shape:
        n *= size
    codes = codes[:n].view(q.shape).float()
    return codes * q.scale.float() + q.zero.float()


def quantize_keys(keys: torch.Tensor, bits: int, group: int = 32):
    """KIVI's keys (heads, T, D): per channel over groups of `group` tokens; the last T % group stay exact.

    Returns (keys_hat, nbytes) with the residual counted in float16.
    """
    heads, length, dim = keys.shape
    full = length - length % group
    if full == 0:
        return keys, keys.numel() * 2
    blocks = keys[:, :full].reshape(heads, full // group, group, dim)
    q = quantize(blocks, bits, axis=-2)  # statistics over the group's tokens, per channel
    keys_hat = torch.cat([dequantize(q).reshape(heads, full, dim).to(keys.dtype), keys[:, full:]], 1)
    return keys_hat, q.nbytes() + keys[:, full:].numel() * 2


def quantize_values(values: torch.Tensor, bits: int):
    """KIVI's values (heads, T, D): per token over channels. Returns (values_hat, nbytes)."""
    q = quantize(values, bits, axis=-1)
    return dequantize(q).to(values.dtype), q.nbytes()
