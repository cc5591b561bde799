"""Policy-gradient benchmarks.

- The vectorised sandbox (every seed a slice of one tensor) against a plain per-seed loop (the same trainer with
  one seed, run once per seed): seeds per second, all five default runs (7 trained policies) on the bandit.
- One RLHF iteration on SmolLM2 at the page's default settings, split into its phases (generate, score, update).
  No TRL comparison row: TRL 1.16's PPO trainer is no longer in the package and its GRPOTrainer needs a dataset,
  accelerate and a full trainer setup; the rows are ours only.
"""

from __future__ import annotations

import time

import torch

from models.pg_sandbox import SandboxConfig, SandboxTrainer


def _row(task, ours, reference, unit, note, higher_is_better=True):
    ratio = None
    if reference and ours:
        ratio = ours / reference if higher_is_better else reference / ours
    return dict(
        lesson="rlhf", task=task, ours=ours, reference=reference, unit=unit, ratio=ratio, note=note
    )


def _sandbox_rows(quick: bool, device: str) -> list[dict]:
    seeds, iterations, loop_seeds = (20, 20, 3) if quick else (100, 100, 10)
    SandboxTrainer(SandboxConfig(n_seeds=2), device).train_steps(2)  # warm-up
    start = time.perf_counter()
    trainer = SandboxTrainer(SandboxConfig(n_seeds=seeds), device)
    trainer.train_steps(iterations)
    if device == "cuda":
        torch.cuda.synchronize()
    vectorised = time.perf_counter() - start
    start = time.perf_counter()
    for seed in range(loop_seeds):
        SandboxTrainer(SandboxConfig(n_seeds=1, seed=seed), device).train_steps(iterations)
    if device == "cuda":
        torch.cuda.synchronize()
    loop = time.perf_counter() - start
    stuck = {n: trainer.stuck_fraction(n) for n in ("ppo ε=0.2", "ppo_noclip")}
    note = (
        f"bandit, 7 policies (REINFORCE ±baseline, PPO ε=0.1/0.2/0.3, no clip, GRPO), {iterations} iterations; "
        f"{seeds} seeds in {vectorised:.2f} s; loop measured on {loop_seeds} seeds; stuck at lr 0.2: "
        f"ε=0.2 {stuck['ppo ε=0.2']:.0%}, no clip {stuck['ppo_noclip']:.0%}"
    )
    return [
        _row("sandbox, seeds per second", seeds / vectorised, loop_seeds / loop, "seeds/s", note)
    ]


def _rlhf_rows(quick: bool, device: str) -> list[dict]:
    from models.registry import load_model
    from models.rlhf import RLHFConfig, RLHFTrainer

    model, tokenizer = load_model("smollm2", device=device)
    config = (
        RLHFConfig(prompts=("The movie was", "My day"), new_tokens=4) if quick else RLHFConfig()
    )
    trainer = RLHFTrainer(model, tokenizer, config, device)
    trainer.train_steps(1)  # warm-up
    iterations = 1 if quick else 3
    phases = {"generate_s": 0.0, "score_s": 0.0, "update_s": 0.0}
    for _ in range(iterations):
        metrics = trainer.train_steps(1)
        for k in phases:
            phases[k] += metrics[k] / iterations
    total = sum(phases.values())
    shape = (
        f"{len(config.prompts)} prompts x {config.samples_per_prompt} samples x {config.new_tokens} tokens, "
        f"LoRA r={config.lora_rank}, {config.ppo_epochs} PPO epoch(s)"
    )
    rows = [
        _row("RLHF iteration on SmolLM2 (total)", total, None, "s", shape, higher_is_better=False)
    ]
    for phase, seconds in phases.items():
        rows.append(
            _row(f"RLHF iteration: {phase[:-2]}", seconds, None, "s", shape, higher_is_better=False)
        )
    return rows


def run(quick: bool = False, device: str = "cpu") -> list[dict]:
    return _sandbox_rows(quick, device) + _rlhf_rows(quick, device)
