"""Timing for the benchmarks: median wall seconds after a warm-up, synchronising CUDA around each call."""

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
