"""The README's notebook examples import what exists: every `from models... import ...` line of its python blocks
resolves (running the blocks themselves loads SmolLM2 and trains on the full corpus: minutes)."""

import importlib
import re
from pathlib import Path

README = Path(__file__).resolve().parents[2] / "README.md"


def test_every_import_in_the_readme_examples_resolves():
    code = "\n".join(re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S))
    imports = re.findall(r"^from (models[\w.]*) import ([\w, ]+)$", code, flags=re.M)
    assert len(imports) > 10
    missing = []
    for module, names in imports:
        loaded = importlib.import_module(module)
        missing += [f"{module}.{name.strip()}" for name in names.split(",") if not hasattr(loaded, name.strip())]
    assert missing == []
