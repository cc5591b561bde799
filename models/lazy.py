"""Lazy exports for the lesson packages of models/: `from models.lora import inject_lora` imports only the module
that defines `inject_lora` (models/lora/adapters.py), not every module of the package (PEFT, transformers, ...)."""

import importlib
from collections.abc import Callable


def exports(package: str, api: dict[str, str]) -> Callable[[str], object]:
    """A module-level `__getattr__` for `package`: each name in `api` loads `package.<api[name]>` on first use."""

    def __getattr__(name: str):
        if name in api:
            return getattr(importlib.import_module(f"{package}.{api[name]}"), name)
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    return __getattr__
