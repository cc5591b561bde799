"""Every lesson package of models/ exports its API: each listed name resolves, from the module the list names."""

import importlib
from pathlib import Path

import pytest

PACKAGES = sorted(p.parent.name for p in (Path(__file__).resolve().parents[2] / "models").glob("*/__init__.py"))


@pytest.mark.parametrize("package", PACKAGES)
def test_every_exported_name_resolves(package):
    module = importlib.import_module(f"models.{package}")
    api = getattr(module, "_API", {})
    assert api and sorted(api) == module.__all__
    for name, where in api.items():
        assert getattr(module, name) is getattr(importlib.import_module(f"models.{package}.{where}"), name)
    with pytest.raises(AttributeError, match="no attribute"):
        module.not_an_export  # noqa: B018
