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


@pytest.fixture(scope="session")
def tiny_lm():
    """(model, tokenizer): a 2-layer Llama (hidden 32), random weights, SmolLM2's tokenizer; trains in seconds."""
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

    from models.registry import load_model, smollm2_cache_path

    path = smollm2_cache_path()
    if (path / "tokenizer.json").exists():
        tokenizer = AutoTokenizer.from_pretrained(path)
    else:
        tokenizer = load_model("smollm2")[1]
    torch.manual_seed(0)
    config = LlamaConfig(hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=4,
                         num_key_value_heads=2, vocab_size=len(tokenizer), tie_word_embeddings=True,
                         attn_implementation="eager")  # fmt: skip
    return LlamaForCausalLM(config).eval(), tokenizer
