"""Timing for the benchmarks: median wall seconds after a warm-up, synchronising CUDA around each call; and the
row every benchmark prints."""

from __future__ import annotations

import statistics
import time

import torch


def once(fn, device: str = "cpu") -> float:
    """Seconds of one fn() call (a CUDA call is waited for)."""
    if device == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    fn()
    if device == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter() - start


def median_seconds(fn, device: str = "cpu", repeats: int = 3) -> float:
    """Median seconds of fn() after one warm-up call."""
    fn()
    return statistics.median(once(fn, device) for _ in range(repeats))


def row(lesson: str, task: str, ours: float, reference: float | None, unit: str, note: str = "") -> dict:
    """One benchmark row: rates (higher is better, e.g. tokens/s), their ratio ours / reference."""
    ratio = ours / reference if reference else None
    return dict(lesson=lesson, task=task, ours=ours, reference=reference, unit=unit, ratio=ratio, note=note)
