"""`python -m app.lessons new`: a scaffolded lesson is in the navigation, renders, and its own tests pass, before
anyone edits it. Run on a copy of the project (the real tree is never written)."""

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from app.lessons.scaffold import new_lesson

ROOT = Path(__file__).resolve().parents[2]
COPY = [
    "app",
    "models",
    "pages",
    "tests",
    "benchmarks",
    "pyproject.toml",
    ".streamlit",
]


@pytest.fixture
def project(tmp_path):
    for name in COPY:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(source, tmp_path / name)
    return tmp_path


def test_a_new_lesson_runs_and_passes_its_tests_as_generated(project):
    command = [sys.executable, "-m", "app.lessons", "new", "tokenizers", "--title", "Tokenizers"]
    made = subprocess.run([*command, "--lecture", "5"], cwd=project, capture_output=True, text=True)
    assert made.returncode == 0, made.stdout + made.stderr
    for path in [
        "pages/tokenizers.py",
        "app/lessons/tokenizers/explore_tab.py",
        "models/tokenizers/model.py",
        "tests/pages/test_tokenizers_page.py",
    ]:
        assert (project / path).exists(), path
    tests = ["tests/models/test_tokenizers.py", "tests/pages/test_tokenizers_page.py", "tests/pages/test_pages.py"]
    run = [
        sys.executable,
        "-m",
        "pytest",
        "-p",
        "no:cacheprovider",
        "-n",
        "0",
        "-q",
        *tests,
        "-k",
        "tokenizers or navigation",
    ]
    result = subprocess.run(run, cwd=project, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    passed = int(re.findall(r"(\d+) passed", result.stdout)[-1])
    assert passed >= 9, result.stdout[-2000:]  # 5 generated, the page and its guard, the navigation
    written = [line.removeprefix("wrote ") for line in made.stdout.splitlines() if line.startswith("wrote ")]
    assert len(written) == 8, made.stdout
    for ruff in (["check"], ["format", "--check"]):  # the generated files follow the house format
        lint = subprocess.run(
            [sys.executable, "-m", "ruff", *ruff, *written],
            cwd=project,
            capture_output=True,
            text=True,
        )
        assert lint.returncode == 0, lint.stdout


def test_refuses_a_taken_slug_a_bad_slug_and_existing_files(project):
    with pytest.raises(ValueError, match="exists already"):
        new_lesson("moe", "Again", "16", root=project)
    with pytest.raises(ValueError, match="one lowercase word"):
        new_lesson("Bad Slug", "x", "1", root=project)
    (project / "pages" / "fresh.py").write_text("")
    with pytest.raises(FileExistsError, match="pages/fresh.py"):
        new_lesson("fresh", "Fresh", "1", root=project)
