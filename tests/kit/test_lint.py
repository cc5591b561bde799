"""ruff is the one formatter and linter; dependencies point one way (pages -> app -> models) in every package."""

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FORBIDDEN = {
    "models": {"streamlit", "plotly", "app", "pages"},  # pure torch/numpy
    "app": {"pages"},
}


@pytest.mark.parametrize("command", [["check", "."], ["format", "--check", "."]])
def test_ruff(command):
    """ruff from this interpreter's packages (requirements-dev.txt), found whether or not a venv is activated."""
    result = subprocess.run([sys.executable, "-m", "ruff", *command], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def imported_roots(path: Path) -> set[str]:
    """Top-level packages a file imports (anywhere in it, also inside functions)."""
    roots = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            roots |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_dependencies_point_one_way(package):
    files = sorted((ROOT / package).rglob("*.py"))
    assert len(files) > 5, f"the walk found no files in {package}/"
    wrong = {str(p.relative_to(ROOT)): sorted(imported_roots(p) & FORBIDDEN[package]) for p in files}
    assert not {k: v for k, v in wrong.items() if v}, f"{package}/ imports what it must not"


def test_the_walk_sees_nested_packages_and_lazy_imports(tmp_path):
    """The check itself can fail: a nested module importing streamlit inside a function is caught."""
    nested = tmp_path / "lesson" / "tab.py"
    nested.parent.mkdir()
    nested.write_text("def f():\n    import streamlit as st\n    from plotly import graph_objects\n")
    assert imported_roots(nested) == {"streamlit", "plotly"}
    assert nested in list(tmp_path.rglob("*.py"))


def test_lessons_reach_the_kit_only_through_the_page():
    """A lesson trains through `page.train(..., run=...)` and reads runs with `page.run(...)`: no lesson module
    imports app.training (the kit names, titles and queues its runs), and none touches st.session_state (the page
    keeps results with `keep`/`result` and sets settings with `set_value`)."""
    lessons = [p for p in (ROOT / "app" / "lessons").rglob("*.py") if p.name not in ("scaffold.py", "__main__.py")]
    assert len(lessons) > 30
    offenders = []
    for path in lessons:
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
            if "app.training" in names:
                offenders.append(f"{path.relative_to(ROOT)}: imports app.training")
        if "session_state" in path.read_text():
            offenders.append(f"{path.relative_to(ROOT)}: st.session_state")
    assert offenders == []
