"""MoE benchmarks: our MoE layer against transformers' Mixtral sparse block with the same shapes and weights.

- forward + backward of one MoE layer (tokens per second), softmax top-k routing, no capacity limit, both with
  SwiGLU experts stored as 3D weights; ours groups the assignments by expert (one sort, one matmul per expert),
  Mixtral gathers each expert's tokens with a mask. Outputs are compared (max |diff| in the note);
- one training step of the lesson's three runs side by side (ours only): what the page pays per step.

The lesson's preset claims (app/lessons/moe CLAIMS) are measured here over seeds and torch thread counts, the page's
own numbers (`MoETrainer.recent_measures`, the router tab's bias count) at the steps the tooltips name:

    python -m benchmarks.moe --claims --seeds 0 1 2 --threads 1 2      # one JSON line per run and checkpoint
"""

from __future__ import annotations

import statistics

import torch

from benchmarks.timing import once
from models.moe.model import BalanceComparison, MoEConfig, MoELayer, choices_changed_by_bias


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


# the presets' settings (app/lessons/moe PRESETS) and the steps their tooltips name
CLAIM_RUNS = {
    "collapse": ({}, (20, 150)),
    "top1": ({"top_k": 1}, (20, 150)),
    "capacity": ({"capacity_factor": 1.0}, (20, 150)),
    "bias": ({"router": "sigmoid"}, (50,)),  # the router tab's short run: the bias run of the comparison
    "fine": ({"n_experts": 15, "top_k": 3, "n_shared": 1, "d_expert": 64}, (150,)),
}
PROBE = "The history of the city began in 1850, when the first railway reached the river."  # routing_tab's text


def claims(names=tuple(CLAIM_RUNS), seeds=(0, 1, 2), threads=(1,)):
    """Yield one dict per (preset, seed, threads, checkpoint): each run's table row and the bias run's count of
    characters whose experts the bias changed, per layer (what the page shows)."""
    from models.corpora import load_corpus_text

    text = load_corpus_text("wiki")[:300_000]  # the lesson's Wikipedia sample (app/lessons/moe/data.py)
    before = torch.get_num_threads()
    try:
        for n_threads in threads:
            torch.set_num_threads(n_threads)
            for name in names:
                overrides, checkpoints = CLAIM_RUNS[name]
                for seed in seeds:
                    comparison, done = BalanceComparison(text, MoEConfig(**overrides), seed=seed), 0
                    for step in checkpoints:
                        comparison.train_steps(step - done)
                        done = step
                        row = {"preset": name, "seed": seed, "threads": n_threads, "step": step}
                        for balance, trainer in comparison.trainers.items():
                            row[balance] = {k: round(v, 4) for k, v in trainer.recent_measures().items()}
                        bias = comparison.trainers["bias"]
                        kept, routings = bias.route(PROBE)
                        row["bias_layers"] = [
                            {
                                "max_abs_b": round(float(block.moe.bias.abs().max()), 3),
                                "changed": int(choices_changed_by_bias(r.probs, r.topk_idx).sum()),
                                "of": len(kept),
                            }
                            for block, r in zip(bias.model.blocks, routings)
                        ]
                        yield row
    finally:
        torch.set_num_threads(before)


if __name__ == "__main__":
    import argparse
    import json

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--claims", action="store_true", help="measure the presets' claims (JSON lines)")
    parser.add_argument("--presets", nargs="*", default=list(CLAIM_RUNS), choices=list(CLAIM_RUNS))
    parser.add_argument("--seeds", nargs="*", type=int, default=[0, 1, 2])
    parser.add_argument("--threads", nargs="*", type=int, default=[1])
    args = parser.parse_args()
    if args.claims:
        for result in claims(args.presets, args.seeds, args.threads):
            print(json.dumps(result), flush=True)
    else:
        for result in run(quick=True):
            print(result)
