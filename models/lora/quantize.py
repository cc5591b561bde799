"""Blockwise 4-bit quantisation as in QLoRA (Dettmers et al. 2023, https://arxiv.org/abs/2305.14314).

The weights are cut into blocks of `block_size` numbers; each block keeps one float, its absolute maximum, and
each number becomes a 4-bit code (16 levels) of x / absmax, which lies in [-1, 1]:

- "int4": 15 evenly spaced levels k/7, k = -7..7 (symmetric absmax rounding);
- "nf4": the 16 NormalFloat levels, quantiles of a standard normal so that each level is used about equally
  often by normally distributed weights (the paper's construction is `normal_float_levels`; the table
  below is the one bitsandbytes ships).

Which weights to try it on: 4-bit rounding is meant for weights trained in full precision, whose blocks hold as
many distinct values as numbers (`distinct_per_block`). The bundled SmolLM2 is not such a model: it ships as a
Q4_1 GGUF file (blocks of 32 weights, 16 levels min + k·step), dequantised to float32 on load, so each of its
blocks of 32 holds at most 16 distinct values; MiniLM's float32 weights are the honest subject.

Double quantisation stores the per-block absmax constants themselves in 8 bits (blocks of 256, after subtracting
their mean), cutting their cost from 32/64 = 0.5 to 8/64 + 32/(64·256) ≈ 0.127 bits per weight. (bitsandbytes uses
an 8-bit *dynamic* float code for them; we use linear int8 absmax, which costs the same bits.)
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

# bitsandbytes/functional.py (get_4bit_type "nf4") and csrc/kernels.cu dDequantizeNF4: the QLoRA paper's NF4 levels
NF4_TABLE = (
    -1.0,
    -0.6961928009986877,
    -0.5250730514526367,
    -0.39491748809814453,
    -0.28444138169288635,
    -0.18477343022823334,
    -0.09105003625154495,
    0.0,
    0.07958029955625534,
    0.16093020141124725,
    0.24611230194568634,
    0.33791524171829224,
    0.44070982933044434,
    0.5626170039176941,
    0.7229568362236023,
    1.0,
)
KINDS = ("int4", "nf4")
BLOCKS = (16, 32, 64, 128, 256, 1024, 4096)  # the block sizes `matrix_report` compares
DQ_BLOCK = 256  # block size of the second quantisation (of the absmax constants)


def normal_float_levels(offset: float = 0.9677083) -> torch.Tensor:
    """NF4 built as in the paper: 8 positive and 7 negative normal quantiles, an exact zero, scaled to [-1, 1].

    offset = (1 - 1/(2·15) + 1 - 1/(2·16)) / 2, the paper's choice so that the outer quantiles are finite.
    """
    normal = torch.distributions.Normal(0.0, 1.0)
    positive = normal.icdf(torch.linspace(offset, 0.5, 9, dtype=torch.float64)[:-1])  # 8 values
    negative = -normal.icdf(torch.linspace(offset, 0.5, 8, dtype=torch.float64)[:-1])  # 7 values
    levels = torch.cat([positive, torch.zeros(1, dtype=torch.float64), negative]).sort().values
    return (levels / levels.max()).float()


def levels(kind: str) -> torch.Tensor:
    """The 16 (int4: 15) values a code can stand for, in units of the block's absmax."""
    if kind == "nf4":
        return torch.tensor(NF4_TABLE)
    if kind == "int4":
        return torch.arange(-7, 8, dtype=torch.float32) / 7
    raise ValueError(f"kind must be one of {KINDS} (got {kind!r}).")


@dataclass
class QuantizedTensor:
    packed: torch.Tensor  # uint8, two 4-bit codes per byte
    absmax: torch.Tensor | None  # (n_blocks,) float32, or None when double-quantised
    absmax_codes: torch.Tensor | None  # (n_blocks,) int8: the absmax constants quantised again
    absmax_scales: torch.Tensor | None  # (n_blocks / 256,) float32 scales of the second level
    absmax_offset: float  # mean of the absmax constants, subtracted before the second level
    shape: tuple[int, ...]
    block_size: int
    kind: str

    @property
    def numel(self) -> int:
        return int(torch.Size(self.shape).numel())

    @property
    def nbytes(self) -> int:
        """Bytes actually held: the packed codes plus the (first- or second-level) constants."""
        constants = [self.absmax, self.absmax_codes, self.absmax_scales]
        return self.packed.numel() + sum(t.numel() * t.element_size() for t in constants if t is not None)

    @property
    def bits_per_parameter(self) -> float:
        return 8 * self.nbytes / self.numel


def _blocks(weight: torch.Tensor, block_size: int) -> torch.Tensor:
    flat = weight.detach().float().reshape(-1)
    pad = (-flat.numel()) % block_size
    return torch.cat([flat, flat.new_zeros(pad)]).view(-1, block_size)  # (n_blocks, block)


def quantize(
    weight: torch.Tensor, kind: str = "nf4", block_size: int = 64, double_quant: bool = False
) -> QuantizedTensor:
    """Blockwise absmax 4-bit quantisation of any tensor."""
    if block_size < 2 or block_size % 2:
        raise ValueError(f"block_size must be an even number of at least 2 (got {block_size}).")
    table = levels(kind).to(weight.device)
    blocks = _blocks(weight, block_size)  # (n_blocks, block)
    absmax = blocks.abs().amax(dim=1)  # (n_blocks,)
    normed = blocks / absmax.clamp_min(1e-12)[:, None]  # in [-1, 1]
    codes = (normed[..., None] - table).abs().argmin(dim=-1).to(torch.uint8).reshape(-1)  # nearest level
    packed = (codes[0::2] << 4) | codes[1::2]
    quantized = QuantizedTensor(packed, absmax, None, None, 0.0, tuple(weight.shape), block_size, kind)
    if double_quant:
        offset = absmax.mean()
        centred = _blocks(absmax - offset, DQ_BLOCK)  # (n_blocks / 256, 256)
        scales = centred.abs().amax(dim=1).clamp_min(1e-12)
        second = torch.round(centred / scales[:, None] * 127).to(torch.int8).reshape(-1)
        quantized.absmax, quantized.absmax_offset = None, float(offset)
        quantized.absmax_codes, quantized.absmax_scales = second[: absmax.numel()], scales
    return quantized


def block_absmax(q: QuantizedTensor) -> torch.Tensor:
    """The per-block scales, dequantised from the second level if there is one."""
    if q.absmax is not None:
        return q.absmax
    n = q.absmax_codes.numel()
    scales = q.absmax_scales.repeat_interleave(DQ_BLOCK)[:n]
    return q.absmax_codes.float() / 127 * scales + q.absmax_offset


def dequantize(q: QuantizedTensor) -> torch.Tensor:
    table = levels(q.kind).to(q.packed.device)
    codes = torch.stack([q.packed >> 4, q.packed & 0xF], dim=1).reshape(-1).long()
    blocks = table[codes].view(-1, q.block_size) * block_absmax(q)[:, None]  # (n_blocks, block)
    return blocks.reshape(-1)[: q.numel].view(q.shape)


def quantization_error(weight: torch.Tensor, kind: str, block_size: int, double_quant=False) -> dict:
    """Mean squared and mean absolute error of a round trip, and the bits per weight it costs."""
    q = quantize(weight, kind, block_size, double_quant)
    diff = dequantize(q) - weight.detach().float()
    return dict(
        kind=kind,
        block_size=block_size,
        double_quant=double_quant,
        mse=diff.pow(2).mean().item(),
        mae=diff.abs().mean().item(),
        bits_per_parameter=q.bits_per_parameter,
    )


def bits_per_parameter(block_size: int = 64, double_quant: bool = False, bits: int = 4) -> float:
    """The paper's accounting: code bits + 32-bit absmax per block (or 8 bits + 32 per 256 blocks)."""
    if double_quant:
        return bits + 8 / block_size + 32 / (block_size * DQ_BLOCK)
    return bits + 32 / block_size


@torch.no_grad()
def fake_quantize_linears(model: torch.nn.Module, kind="nf4", block_size=64, skip=("lm_head",)):
    """Round every nn.Linear weight of `model` through 4 bits (in place): the numbers a 4-bit base computes with.

    QLoRA dequantises each weight to bf16 right before its matmul; here it is done once, ahead of time.
    """
    for name, module in model.named_modules():
        if isinstance(module, torch.nn.Linear) and not any(s in name for s in skip):
            w = module.weight
            w.copy_(dequantize(quantize(w, kind, block_size)).to(w.dtype))
    return model


def distinct_per_block(weight: torch.Tensor, block_size: int = 32) -> torch.Tensor:
    """How many distinct values each block of `block_size` consecutive weights holds: (n_blocks,) int64.

    A weight trained in float holds `block_size` of them; one that was stored as 4-bit codes with a scale per
    block of that size (GGUF Q4_0, Q4_1) holds at most 16, whatever float type it is later stored in.
    """
    flat = weight.detach().reshape(-1)
    blocks = flat[: flat.numel() // block_size * block_size].view(-1, block_size)  # (n_blocks, block)
    ordered = blocks.sort(dim=1).values
    return 1 + (ordered.diff(dim=1) != 0).sum(dim=1)


def normed_sample(weight: torch.Tensor, block_size: int = 64, n: int = 60_000, seed: int = 0) -> torch.Tensor:
    """Up to `n` weights (a seeded random sample) divided by their block's absmax: what the 4-bit levels cover."""
    blocks = _blocks(weight, block_size)  # (n_blocks, block)
    normed = (blocks / blocks.abs().amax(dim=1, keepdim=True).clamp_min(1e-12)).reshape(-1)[: weight.numel()]
    order = torch.randperm(normed.numel(), generator=torch.Generator().manual_seed(seed))[:n]
    return normed[order]


def layer_matrices(model: torch.nn.Module) -> list[dict[str, torch.Tensor]]:
    """The weight matrices of each transformer layer: [{name inside the layer: (out, in) weight}], bottom first.

    The layers are the longest nn.ModuleList whose blocks hold 2-D weights (Llama's model.layers, BERT's
    encoder.layer, GPT-2's h); a matrix is any 2-D `weight` in a block but an embedding's.
    """
    stacks = [
        m
        for m in model.modules()
        if isinstance(m, torch.nn.ModuleList) and len(m) and all(_matrices(block) for block in m)
    ]
    if not stacks:
        raise ValueError("This model has no stack of layers with weight matrices to quantise.")
    return [_matrices(block) for block in max(stacks, key=len)]


def _matrices(block: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {
        name: module.weight
        for name, module in block.named_modules()
        if isinstance(getattr(module, "weight", None), torch.Tensor)
        and module.weight.dim() == 2
        and not isinstance(module, torch.nn.Embedding)
    }


def matrix_report(model: torch.nn.Module, layer: int, matrix: str = "", max_weights: int = 2**21) -> dict:
    """One weight matrix of `model` (layer `layer`, the matrix whose name inside the layer is or ends with
    `matrix`; empty: the layer's first) rounded to int4 and NF4 at every block size in BLOCKS, with and without
    double quantisation; its distinct values per block of 32 and a sample of weight / block absmax (blocks of 64).
    A matrix over `max_weights` numbers is quantised on its first `max_weights`."""
    layers = layer_matrices(model)
    if not 0 <= layer < len(layers):
        raise ValueError(f"This model has layers 0–{len(layers) - 1} (got {layer}).")
    names = layers[layer]
    found = [n for n in names if not matrix or n == matrix or n.endswith("." + matrix)]
    if not found:
        raise ValueError(f"Layer {layer} has no matrix called {matrix!r}; it has: {', '.join(names)}.")
    weight = names[found[0]].detach().float().cpu()
    flat = weight.reshape(-1)[:max_weights]
    errors = [quantization_error(flat, kind, b) for kind in KINDS for b in BLOCKS]
    errors += [quantization_error(flat, "nf4", b, double_quant=True) for b in BLOCKS]
    distinct = distinct_per_block(flat, 32)
    return dict(
        name=found[0],
        shape=tuple(weight.shape),
        quantised=flat.numel(),
        errors=errors,
        distinct_max=int(distinct.max()),
        distinct_mean=float(distinct.float().mean()),
        normed=normed_sample(flat, 64).numpy(),
        n_params=sum(p.numel() for p in model.parameters()),
    )
