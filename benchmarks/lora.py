"""LoRA benchmarks: our adapters against PEFT's on a SmolLM2-shaped model, side by side in one process.

- one training step (forward, backward, AdamW) with LoRA on q_proj and v_proj of every layer, ours against
  `peft.get_peft_model` with the same rank, alpha and targets;
- merging the adapters into the weights: `merge_lora` against PEFT's `merge_and_unload`;
- a LoRA step against a full fine-tuning step of the same matrices (ours only: the lecture's "LoRA speeds
  training by about a quarter, not tenfold").

The model is a LlamaForCausalLM with SmolLM2-135M's shapes and random weights (speed does not depend on them).
"""

from __future__ import annotations

import copy
import statistics

import torch
from peft import LoraConfig, get_peft_model

from benchmarks.timing import once
from models.lora.adapters import inject_lora, merge_lora
from models.registry import random_smollm2

TARGETS = ["q_proj", "v_proj"]


def _time_interleaved(fns: list, device: str, repeats: int) -> list[float]:
    """Median seconds of each fn, measured in turn (a, b, c, a, b, c, ...) so that a load change on a
    shared machine hits all of them alike."""
    for fn in fns:
        fn()  # warm-up
    times = [[] for _ in fns]
    for _ in range(repeats):
        for i, fn in enumerate(fns):
            times[i].append(once(fn, device))
    return [statistics.median(t) for t in times]


def _row(task, ours, reference, unit, note):
    ratio = reference / ours if reference is not None and ours else None
    return dict(lesson="lora", task=task, ours=ours, reference=reference, unit=unit, ratio=ratio, note=note)


def _sharing_copy(model):
    return copy.deepcopy(model, {id(p): p for p in model.parameters()})


def _step_fn(model, ids):
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=1e-4)

    def step():
        loss = model(input_ids=ids, labels=ids).loss
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

    return step


def run(quick: bool = False, device: str = "cpu") -> list[dict]:
    batch, seq_len, repeats = (2, 32, 3) if quick else (8, 128, 5)
    r = 8
    base = random_smollm2(device)
    for p in base.parameters():
        p.requires_grad_(False)
    ids = torch.randint(0, base.config.vocab_size, (batch, seq_len), device=device)
    shape = f"SmolLM2-135M shapes, B={batch} T={seq_len}, r={r} on {'+'.join(TARGETS)}"
    rows = []

    ours = inject_lora(_sharing_copy(base), TARGETS, r=r, alpha=2 * r).train()
    theirs = get_peft_model(_sharing_copy(base), LoraConfig(r=r, lora_alpha=2 * r, target_modules=TARGETS)).train()
    full = _sharing_copy(base).train()
    for layer in full.model.layers:
        for name in TARGETS:
            linear = getattr(layer.self_attn, name)
            linear.weight = torch.nn.Parameter(linear.weight.detach().clone(), requires_grad=True)
    t_ours, t_peft, t_full = _time_interleaved(
        [_step_fn(ours, ids), _step_fn(theirs, ids), _step_fn(full, ids)], device, repeats
    )
    rows.append(_row("LoRA training step", t_ours, t_peft, "s", f"{shape}; vs PEFT get_peft_model"))

    # both merge a copy that shares the frozen weights, so only merging is timed (PEFT adds ΔW into the
    # shared weight in place, which changes the random weights between repeats, not the time)
    t_merge, t_peft_merge = _time_interleaved(
        [
            lambda: merge_lora(_sharing_copy(ours), inplace=True),
            lambda: _sharing_copy(theirs).merge_and_unload(),
        ],
        device,
        repeats,
    )
    rows.append(
        _row(
            "merge adapters into weights",
            t_merge,
            t_peft_merge,
            "s",
            f"{shape}; vs merge_and_unload",
        )
    )

    rows.append(
        _row(
            "LoRA step vs full fine-tuning step (same matrices)",
            t_ours,
            t_full,
            "s",
            f"{shape}; reference = full fine-tuning of q_proj and v_proj (ratio > 1: LoRA faster)",
        )
    )
    return rows
