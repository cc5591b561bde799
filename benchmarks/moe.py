"""MoE benchmarks: our MoE layer against transformers' Mixtral sparse block with the same shapes and weights.

- forward + backward of one MoE layer (tokens per second), softmax top-k routing, no capacity limit, both with
  SwiGLU experts stored as 3D weights; ours groups the assignments by expert (one sort, one matmul per expert),
  Mixtral gathers each expert's tokens with a mask. Outputs are compared (max |diff| in the note);
- one training step of the lesson's three runs side by side (ours only): what the page pays per step.
"""

from __future__ import annotations

import statistics

import torch

from benchmarks.timing import once
from models.moe.model import BalanceComparison, MoEConfig, MoELayer


def _time(fn, device: str, repeats: int) -> float:
    """Median seconds of fn() after one warm-up call."""
    fn()
    return statistics.median(once(fn, device) for _ in range(repeats))


def _time_pair(ours, theirs, device: str, repeats: int) -> tuple[float, float]:
    """Median seconds of each, measured alternately so that a busy machine slows both alike."""
    ours(), theirs()
    pairs = [(once(ours, device), once(theirs, device)) for _ in range(repeats)]
    return statistics.median(p[0] for p in pairs), statistics.median(p[1] for p in pairs)


def _row(task, ours, reference, unit, note):
    ratio = ours / reference if reference else None  # tokens/s: higher is better
    return dict(lesson="moe", task=task, ours=ours, reference=reference, unit=unit, ratio=ratio, note=note)


def _mixtral(layer: MoELayer, device: str):
    from transformers import MixtralConfig
    from transformers.models.mixtral.modeling_mixtral import MixtralSparseMoeBlock

    c = layer.config
    config = MixtralConfig(
        hidden_size=c.d_model,
        intermediate_size=c.d_expert,
        num_local_experts=c.n_experts,
        num_experts_per_tok=c.top_k,
        router_jitter_noise=0.0,
    )
    block = MixtralSparseMoeBlock(config).to(device)
    with torch.no_grad():
        block.gate.weight.copy_(layer.gate.weight)
        ex = layer.experts
        block.experts.gate_up_proj.copy_(torch.cat([ex.w_gate, ex.w_up], dim=-1).transpose(1, 2))
        block.experts.down_proj.copy_(ex.w_down.transpose(1, 2))
    return block


def _layer_rows(tokens, d_model, d_expert, n_experts, top_k, device, repeats) -> list[dict]:
    torch.manual_seed(0)
    config = MoEConfig(d_model=d_model, n_heads=1, d_expert=d_expert, n_experts=n_experts, top_k=top_k)
    layer = MoELayer(config).to(device)
    block = _mixtral(layer, device)
    x = torch.randn(1, tokens, d_model, device=device)

    def ours():
        layer.zero_grad(set_to_none=True)
        layer(x)[0].square().mean().backward()

    def theirs():
        block.zero_grad(set_to_none=True)
        block(x.clone()).square().mean().backward()

    with torch.no_grad():
        diff = float((layer(x)[0] - block(x.clone())).abs().max())
    shape = f"N={tokens} D={d_model} F={d_expert} E={n_experts} k={top_k}"
    t_ours, t_ref = _time_pair(ours, theirs, device, repeats)
    rows = [
        _row(
            f"MoE layer forward+backward, {shape}",
            tokens / t_ours,
            tokens / t_ref,
            "tokens/s",
            f"reference: transformers MixtralSparseMoeBlock, same weights; max |diff| {diff:.1e}",
        ),
    ]
    with torch.inference_mode():
        t_ours, t_ref = _time_pair(lambda: layer(x), lambda: block(x), device, repeats)
    rows.append(_row(f"MoE layer forward only, {shape}", tokens / t_ours, tokens / t_ref, "tokens/s", "inference mode"))
    return rows


def run(quick: bool = False, device: str = "cpu") -> list[dict]:
    repeats = 3 if quick else 7
    shapes = (
        [(2048, 128, 256, 8, 2)]
        if quick
        else [
            (4096, 256, 512, 8, 2),
            (8192, 256, 256, 32, 4),
            (8192, 512, 256, 64, 8),
        ]
    )
    rows = []
    for shape in shapes:
        rows += _layer_rows(*shape, device=device, repeats=repeats)
    from models.corpora import load_corpus_text

    text = load_corpus_text("wiki")[:300_000]
    comparison = BalanceComparison(text, MoEConfig(), seed=0, device=device)
    seconds = _time(lambda: comparison.train_steps(1), device, repeats)
    collapse = comparison.train_steps(5 if quick else 40)
    rows.append(
        _row(
            "lesson: one step of the three runs (none / aux / bias), default settings",
            seconds * 1e3,
            None,
            "ms",
            f"after {comparison.trainers['none'].steps} steps: load CV none {collapse['none.load_cv']:.2f}, "
            f"aux {collapse['aux.load_cv']:.2f}, bias {collapse['bias.load_cv']:.2f}",
        )
    )
    return rows
