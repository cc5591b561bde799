"""ruff is the one formatter and linter; the tree stays clean."""

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("command", [["check", "."], ["format", "--check", "."]])
def test_ruff(command):
    ruff = shutil.which("ruff")
    if ruff is None:
        pytest.skip("ruff is not installed (pip install ruff)")
    result = subprocess.run([ruff, *command], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_models_never_import_streamlit():
    for path in (ROOT / "models").glob("*.py"):
        assert "streamlit" not in path.read_text(), f"{path.name} imports streamlit"


def test_pages_depend_on_app_not_the_other_way():
    for path in (ROOT / "app").glob("*.py"):
        assert "from pages" not in path.read_text() and "import pages" not in path.read_text(), (
            path.name
        )
