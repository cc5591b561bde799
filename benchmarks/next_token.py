"""Foundation benchmarks: SmolLM2 load time and per-token sampling time against transformers' `generate`.

Without the SmolLM2 package (e.g. on a GPU box that only gets the source tree), the same architecture is built
from its config with random weights: speed does not depend on the weights.
"""

from __future__ import annotations

import time

import torch

from models.next_token.sampling import SamplingConfig, sample_continuation


def _model(device: str):
    """(model, load seconds, note): the real SmolLM2 if installed, else its architecture with random weights."""
    from models import registry

    start = time.perf_counter()
    try:
        model, _ = registry.load_model("smollm2", device=device)
        return model, time.perf_counter() - start, "SmolLM2-135M (cached safetensors)"
    except (ValueError, ImportError):
        # no package here: time loading a same-size safetensors copy (what the cache holds) instead
        import tempfile

        from transformers import AutoModelForCausalLM

        with tempfile.TemporaryDirectory() as folder:
            registry.random_smollm2("cpu").save_pretrained(folder)
            _sync(device)
            start = time.perf_counter()
            model = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32, attn_implementation="eager")
            model.eval().to(device)
            _sync(device)
            seconds = time.perf_counter() - start
        return model, seconds, "SmolLM2-135M architecture, random weights (same-size safetensors)"


def _sync(device: str) -> None:
    if device == "cuda":
        torch.cuda.synchronize()


def run(quick: bool = False, device: str = "cpu") -> list[dict]:
    model, load_s, what = _model(device)
    rows = []
    if load_s is not None:
        rows.append(
            dict(
                lesson="next_token",
                task="load SmolLM2 (from the safetensors cache)",
                ours=load_s,
                reference=None,
                unit="s",
                ratio=None,
                note=what,
            )
        )
    n_new = 8 if quick else 32
    prompt = list(range(100, 100 + (16 if quick else 64)))  # token ids; content does not change speed
    config = SamplingConfig(temperature=0.8, top_k=50, top_p=0.95, seed=0)
    ids = torch.tensor([prompt], device=device)
    with torch.no_grad():
        model(ids)  # warm-up
    times = {"ours": [], "reference": []}
    for _ in range(2 if quick else 3):
        _sync(device)
        start = time.perf_counter()
        sample_continuation(model, prompt, config, n_new, max_context=8192)
        _sync(device)
        times["ours"].append((time.perf_counter() - start) / n_new)
        _sync(device)
        start = time.perf_counter()
        with torch.no_grad():
            model.generate(
                ids,
                attention_mask=torch.ones_like(ids),
                do_sample=True,
                temperature=0.8,
                top_k=50,
                top_p=0.95,
                max_new_tokens=n_new,
                min_new_tokens=n_new,
                pad_token_id=0,
            )
        _sync(device)
        times["reference"].append((time.perf_counter() - start) / n_new)
    ours, ref = min(times["ours"]), min(times["reference"])
    rows.append(
        dict(
            lesson="next_token",
            task=f"sample a token ({len(prompt)}-token prompt, KV cache)",
            ours=ours * 1000,
            reference=ref * 1000,
            unit="ms/token",
            ratio=ref / ours,
            note=f"{what}; reference: transformers generate() with the same filters",
        )
    )
    # the explorer's main cost: one full forward pass over a prompt
    long_ids = torch.randint(0, 49152, (1, 128 if quick else 512), device=device)
    with torch.no_grad():
        _sync(device)
        start = time.perf_counter()
        model(long_ids)
        _sync(device)
    rows.append(
        dict(
            lesson="next_token",
            task=f"next-token forward pass, {long_ids.shape[1]} tokens",
            ours=(time.perf_counter() - start) * 1000,
            reference=None,
            unit="ms",
            ratio=None,
            note=what + ", eager attention",
        )
    )
    return rows
