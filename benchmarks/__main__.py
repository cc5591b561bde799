"""Benchmarks: each lesson's code against its reference library, side by side in one process.

    python -m benchmarks                 # every lesson, full size
    python -m benchmarks --quick         # small inputs (a smoke run, < 1 min per lesson)
    python -m benchmarks --only ngrams --device cuda

Each lesson with a module `benchmarks/<slug>.py` (slugs from app/lessons/__init__.py) has `run(quick, device) -> list[dict]` with keys lesson, task, ours,
reference, unit, ratio (> 1: ours is better) and note. Results go in BENCHMARKS.md with the command that made them.
"""

from __future__ import annotations

import argparse
import importlib
import platform
import sys
import time
import traceback
from pathlib import Path

from app.lessons import LESSONS as COURSE

LESSONS = [item.slug for item in COURSE if (Path(__file__).parent / f"{item.slug}.py").exists()]


def _fmt(value, unit: str = "") -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        text = f"{value:,.4g}" if abs(value) < 1000 else f"{value:,.0f}"
    else:
        text = str(value)
    return f"{text} {unit}".strip()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="small inputs, for a smoke run")
    parser.add_argument("--device", default="cpu", help="cpu, cuda or mps")
    parser.add_argument("--only", nargs="*", default=None, help="lessons to run: " + ", ".join(LESSONS))
    args = parser.parse_args(argv)

    import torch

    print(f"# Benchmarks ({'quick' if args.quick else 'full'}), device={args.device}")
    gpu = torch.cuda.get_device_name(0) if args.device == "cuda" and torch.cuda.is_available() else ""
    print(
        f"python {platform.python_version()}, torch {torch.__version__}, {platform.machine()}, "
        f"{torch.get_num_threads()} torch threads {gpu}\n"
    )
    print("| lesson | task | ours | reference | ratio (>1 = ours better) | note |")
    print("|---|---|---|---|---|---|")
    failures = 0
    for lesson in args.only or LESSONS:
        start = time.perf_counter()
        try:
            module = importlib.import_module(f"benchmarks.{lesson}")
            rows = module.run(quick=args.quick, device=args.device)
        except Exception as exc:  # noqa: BLE001 - report and go on with the other lessons
            failures += 1
            print(f"| {lesson} | FAILED | | | | {type(exc).__name__}: {exc} |")
            traceback.print_exc(file=sys.stderr)
            continue
        for row in rows:
            unit = row.get("unit", "")
            ratio = row.get("ratio")
            print(
                f"| {row.get('lesson', lesson)} | {row['task']} | {_fmt(row.get('ours'), unit)} | "
                f"{_fmt(row.get('reference'), unit)} | {'—' if ratio is None else f'{ratio:.2f}x'} | "
                f"{row.get('note', '')} |",
                flush=True,
            )
        print(f"<!-- {lesson}: {time.perf_counter() - start:.1f} s -->", flush=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
