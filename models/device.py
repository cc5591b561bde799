"""Device choice and GPU-memory housekeeping: cuda, then mps, then cpu.

Pages call `pick_device()` (overridable by the user), show `memory_summary()`, and wrap GPU work so that a CUDA
out-of-memory error becomes a message (`is_out_of_memory`) after `free_memory()` has released the cache.
"""

from __future__ import annotations

import gc

import torch


def available_devices() -> list[str]:
    devices = []
    if torch.cuda.is_available():
        devices.append("cuda")
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        devices.append("mps")
    devices.append("cpu")
    return devices


def pick_device(preference: str = "auto") -> str:
    """The preferred device if it is available, else the best one: cuda > mps > cpu."""
    devices = available_devices()
    if preference != "auto" and preference in devices:
        return preference
    return devices[0]


def device_label(device: str) -> str:
    if device == "cuda" and torch.cuda.is_available():
        return f"cuda ({torch.cuda.get_device_name(0)})"
    if device == "mps":
        return "mps (Apple GPU)"
    return f"cpu ({torch.get_num_threads()} threads)"


def memory_summary(device: str) -> dict[str, float] | None:
    """GPU memory in MiB (allocated by torch, reserved by torch, total), or None on the CPU."""
    if device == "cuda" and torch.cuda.is_available():
        mib = 2**20
        return {
            "allocated_mib": torch.cuda.memory_allocated() / mib,
            "reserved_mib": torch.cuda.memory_reserved() / mib,
            "total_mib": torch.cuda.get_device_properties(0).total_memory / mib,
        }
    if device == "mps" and hasattr(torch, "mps"):
        try:
            return {"allocated_mib": torch.mps.current_allocated_memory() / 2**20}
        except (AttributeError, RuntimeError):
            return None
    return None


def is_out_of_memory(exc: BaseException) -> bool:
    """True for CUDA/MPS out-of-memory errors (their types differ across torch versions)."""
    oom_type = getattr(torch.cuda, "OutOfMemoryError", None)
    if oom_type is not None and isinstance(exc, oom_type):
        return True
    return isinstance(exc, RuntimeError) and "out of memory" in str(exc).lower()


def free_memory() -> None:
    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()
    if hasattr(torch, "mps") and getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
        torch.mps.empty_cache()
