"""Shared fixtures: offline mode, one torch thread, and a warm SmolLM2 cache for page tests."""

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # tests never touch the network
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
# page tests run one after another in one process: a run left by a finished test must not make the next test's
# run wait for a turn (the queue itself is tested with its own limits in tests/test_training_kit.py)
os.environ.setdefault("NLP_PLAYGROUND_MAX_RUNS", "64")
os.environ.setdefault("NLP_PLAYGROUND_GPU_JOBS", "64")

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
