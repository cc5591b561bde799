"""Write constraints.txt: the exact versions of everything the requirement files pull in, as installed now.

    pip install -U -r requirements-dev.txt -c /dev/null    # newest releases within the ranges
    python -m pytest                                        # green, as CI runs it
    python .ci/lock.py                                      # write constraints.txt from what passed

Walks requirements-dev.txt (and the files it includes) and requirements-nodeps.txt through the installed packages'
own dependencies, and pins each to its installed version. A local version tag (torch's "+cpu") is dropped, so the
same lock serves the CPU and the CUDA wheel.
"""

from __future__ import annotations

import re
from importlib import metadata
from pathlib import Path

from packaging.markers import default_environment
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parent.parent
TOP = ["requirements-dev.txt", "requirements-nodeps.txt"]
NO_DEPS = {"requirements-nodeps.txt"}  # installed with --no-deps: its packages' own dependencies are not pulled


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def requirement_lines(path: Path) -> list[str]:
    lines = []
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line.startswith("-r"):
            lines += requirement_lines(path.parent / line[2:].strip())
        elif line:
            lines.append(line)
    return lines


def closure() -> dict[str, str]:
    """{normalised name: installed version} of the requirements and everything they need here."""
    pinned, todo = {}, []
    for name in TOP:
        todo += [(Requirement(line), name not in NO_DEPS) for line in requirement_lines(ROOT / name)]
    env = default_environment()
    while todo:
        req, follow = todo.pop()
        name = _norm(req.name)
        if name in pinned or (req.marker and not req.marker.evaluate(env)):
            continue
        dist = metadata.distribution(req.name)
        pinned[name] = dist.version.split("+", 1)[0]
        for extra in req.extras:
            env_extra = dict(env, extra=extra)
            for dep in map(Requirement, dist.requires or []):
                if dep.marker and "extra" in str(dep.marker) and dep.marker.evaluate(env_extra):
                    todo.append((dep, follow))
        if follow:
            for dep in map(Requirement, dist.requires or []):
                if not dep.marker or "extra" not in str(dep.marker):
                    todo.append((dep, True))
    return pinned


def main() -> None:
    pins = closure()
    header = [
        "# Exact versions from the last green run of the suite (CI, README). Written by `python .ci/lock.py`;",
        "# see the README's 'Refreshing the lock'. The requirement files keep their ranges.",
    ]
    body = [f"{name}=={version}" for name, version in sorted(pins.items())]
    (ROOT / "constraints.txt").write_text("\n".join(header + body) + "\n")
    print(f"constraints.txt: {len(body)} packages")


if __name__ == "__main__":
    main()
