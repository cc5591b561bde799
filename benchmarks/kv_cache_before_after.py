"""Decode speed of the KV-cache loop before and after the issue-10 speed pass, side by side in one process.

    OMP_NUM_THREADS=1 HF_HUB_OFFLINE=1 python -m benchmarks.kv_cache_before_after --tokens 256 --before 41bbb57

"before" is models/kv_cache/cache.py at the given commit (loaded from git), "after" the working tree's; each policy
runs before / after / after evicting every 8 tokens back to back, so a change in the machine's load hits all
three alike. Teacher-forced, one token per step (chunk 1), budget 20 % of the text, SmolLM2-135M.

Two clocks: wall-clock decode tokens/s (what BudgetResult reports) and decode tokens per second of this process's
CPU time (time.process_time, one torch thread): on a machine shared with other jobs the wall clock includes the
time spent waiting for a core, the CPU time mostly does not.
"""

from __future__ import annotations

import argparse
import importlib.util
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

from benchmarks.kv_cache import _ids, _model
from models.kv_cache import cache as after
from models.kv_cache.cache import POLICY_NAMES, KVCacheConfig, make_policy


def _load_before(commit: str):
    source = subprocess.run(
        ["git", "show", f"{commit}:models/kv_cache/cache.py"], capture_output=True, text=True, check=True
    ).stdout
    path = Path(tempfile.mkdtemp()) / "kv_cache_before.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location("kv_cache_before", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules["kv_cache_before"] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def main(argv=None) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tokens", type=int, default=256)
    parser.add_argument("--before", default="41bbb57")
    parser.add_argument("--every", type=int, default=8, help="evict every this many tokens (after)")
    args = parser.parse_args(argv)
    before = _load_before(args.before)
    model, tokenizer, name = _model("cpu")
    length, budget = args.tokens, args.tokens // 5
    ids = _ids(tokenizer, length)
    config = KVCacheConfig(budget=budget, n_tokens=length, chunk=1)
    after.run_with_budget(model, tokenizer, ids[:24], after.FullCache(), 24, chunk=1)  # warm-up
    print(f"{name}, {length} tokens, budget {budget}, chunk 1, torch threads {torch.get_num_threads()}")
    print(
        "| policy | before: tokens/s wall / CPU | after: wall / CPU | after, evict every "
        f"{args.every}: wall / CPU | ppl before / after / every {args.every} |"
    )
    print("|---|---|---|---|---|")
    for policy_name in ["Full cache", *POLICY_NAMES, "Full cache"]:  # full again: drift
        b = length if policy_name == "Full cache" else budget
        cells, ppls = [], []
        variants = [(before, {}), (after, {})]
        if policy_name != "Full cache":
            variants.append((after, {"evict_every": args.every}))
        for module, extra in variants:
            policy = make_policy(policy_name, config)
            start = time.perf_counter()
            decoder = module.BudgetDecoder(model, tokenizer, ids, policy, b, chunk=1, prefill=budget, **extra)
            decoder.train_steps(1)  # the prefill
            cpu = time.process_time()
            while not decoder.done:
                decoder.train_steps(64)
            cpu = time.process_time() - cpu
            result = decoder.result()
            cells.append(f"{result.tokens_per_second:.2f} / {decoder.decode_tokens / cpu:.2f}")
            ppls.append(f"{result.perplexity:.2f}")
            print(f"  {policy_name} {extra} {time.perf_counter() - start:.0f} s", file=sys.stderr)
        cells += ["—"] * (3 - len(cells))
        print(f"| {policy_name} | {' | '.join(cells)} | {' / '.join(ppls)} |", flush=True)


if __name__ == "__main__":
    main()
