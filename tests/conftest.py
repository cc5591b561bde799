"""Shared fixtures: offline mode, one torch thread, and a warm SmolLM2 cache for page tests."""

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # tests never touch the network
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import pytest  # noqa: E402
import torch  # noqa: E402

torch.set_num_threads(1)  # on a shared 2-core machine one thread is usually faster


@pytest.fixture(scope="session")
def smollm2():
    """(model, tokenizer); the first call converts the GGUF into the user cache (~20-30 s on a CPU)."""
    from models.registry import load_model

    return load_model("smollm2")


@pytest.fixture(scope="session")
def minilm():
    from models.registry import load_model

    return load_model("minilm")
