"""Prompting benchmarks: our label scoring (the demonstrations' KV cache reused, queries batched, the output layer
only at the answer slot) against the textbook way, one transformers forward pass per review and label word over the
whole prompt; and the accuracy-against-shots grid of the lesson's sweep tab.

SmolLM2-135M (the Q4_1 GGUF dequantised) on the movie-review sentences when the package is installed; else (a GPU
box) a random SmolLM2-shaped Llama on random token ids of the same lengths: speed does not depend on the weights.
"""

from __future__ import annotations

import time

import torch

from benchmarks.timing import row
from models.prompting.scoring import score_labels, score_labels_naive


def _row(task, ours, reference, unit, note):
    return row("prompting", task, ours, reference, unit, note)


def _model(device: str):
    try:
        from models.registry import load_model

        model, tokenizer = load_model("smollm2", device=device)
        return model, tokenizer, "SmolLM2-135M (Q4_1 dequantised)"
    except Exception:  # noqa: BLE001 - no package on this box: same shapes, random weights
        from models.registry import random_smollm2

        return random_smollm2(device), None, "random SmolLM2-shaped Llama"


def _prompts(tokenizer, n_eval: int, shots: int):
    """(prefix ids, query ids, label ids): the lesson's default prompt, or random ids of the same lengths."""
    if tokenizer is None:
        g = torch.Generator().manual_seed(0)
        prefix = torch.randint(100, 40_000, (shots * 28,), generator=g).tolist()
        queries = [torch.randint(100, 40_000, (18 + i % 8,), generator=g).tolist() for i in range(n_eval)]
        return prefix, queries, [[3524], [2731]]
    from models.prompting.data import movie_reviews, split_pairs
    from models.prompting.few_shot import FewShotConfig, build_prompts

    train, evaluation = split_pairs(movie_reviews(16), n_eval)
    _, _, prefix, queries, labels = build_prompts(
        tokenizer, train, [t for t, _ in evaluation], FewShotConfig(shots=shots)
    )
    return prefix, queries, labels


def scoring_rows(model, tokenizer, name: str, n_eval: int, shots: int, device: str) -> list[dict]:
    prefix, queries, labels = _prompts(tokenizer, n_eval, shots)
    score_labels(model, prefix, queries[:2], labels)  # warm-up
    sync = torch.cuda.synchronize if device == "cuda" else (lambda: None)
    start = time.perf_counter()
    ours = score_labels(model, prefix, queries, labels, batch_size=16)
    sync()
    t_ours = time.perf_counter() - start
    start = time.perf_counter()
    theirs = score_labels_naive(model, prefix, queries, labels)
    sync()
    t_theirs = time.perf_counter() - start
    gap = float((ours - theirs).abs().max())
    note = (
        f"{name}, {n_eval} reviews × {len(labels)} label words, {shots} shots ({len(prefix)} prefix tokens); "
        f"reference: one forward per review and label; max |Δ log p| {gap:.1e}"
    )
    return [_row(f"label scoring, {shots} shots", n_eval / t_ours, n_eval / t_theirs, "reviews/s", note)]


def grid_rows(model, tokenizer, name: str, quick: bool) -> list[dict]:
    """The sweep tab's accuracy-against-shots grid, timed (no reference: the naive way is the row above's ratio)."""
    if tokenizer is None:
        return []
    from models.prompting.data import movie_reviews, split_pairs
    from models.prompting.few_shot import FewShotConfig
    from models.prompting.sweep import FewShotSweep, shot_points

    n_eval, seeds, shots = (8, 1, (0, 4)) if quick else (24, 10, (0, 1, 2, 4, 8))
    train, evaluation = split_pairs(movie_reviews(16), n_eval)
    grid = shot_points(seeds, shots)
    sweep = FewShotSweep(model, tokenizer, train, evaluation, FewShotConfig(), grid)
    start = time.perf_counter()
    sweep.train_steps(len(grid))
    seconds = time.perf_counter() - start
    note = f"{name}: {seeds} draws × shots {shots} on {n_eval} reviews = {len(grid)} prompts ({sweep.cache.hits} scored from the cache)"
    return [_row("accuracy-against-shots grid", seconds, None, "s", note)]


def run(quick: bool = True, device: str = "cpu") -> list[dict]:
    model, tokenizer, name = _model(device)
    n_eval = 8 if quick else 48
    rows = scoring_rows(model, tokenizer, name, n_eval, 4, device)
    return rows + grid_rows(model, tokenizer, name, quick)


if __name__ == "__main__":
    for row in run(quick=True):
        print(row)
