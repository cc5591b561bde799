"""The offline model registry: SmolLM2 from its GGUF package, MiniLM, and Hugging Face ids."""

import math

import pytest
import torch

from models import registry


def test_available_models_lists_both_bundled_models_with_sizes():
    infos = {m.name: m for m in registry.available_models()}
    assert infos["smollm2"].available and infos["smollm2"].kind == "causal"
    assert infos["minilm"].available and infos["minilm"].kind == "encoder"
    assert infos["smollm2"].size_mb > 50 and infos["minilm"].size_mb > 50


def test_smollm2_loads_and_predicts_real_text(smollm2):
    model, tokenizer = smollm2
    assert registry.smollm2_cache_path().joinpath("model.safetensors").exists()  # later loads are fast
    assert registry.model_kind(model) == "causal" and registry.context_length(model) == 8192
    ids = tokenizer("The capital of France is Paris.", return_tensors="pt").input_ids
    with torch.no_grad():
        out = model(ids, labels=ids, output_attentions=True)
    assert math.isfinite(out.loss.item()) and out.loss.item() < 6
    assert len(out.attentions) == 30 and out.attentions[0].shape == (
        1,
        9,
        ids.shape[1],
        ids.shape[1],
    )
    rows = out.attentions[5][0].sum(-1)
    assert torch.allclose(rows, torch.ones_like(rows), atol=1e-5)
    prompt = tokenizer("The capital of France is", return_tensors="pt").input_ids
    with torch.no_grad():
        top = model(prompt).logits[0, -1].argmax().item()
    assert tokenizer.decode([top]).strip() == "Paris"


def test_minilm_loads_as_an_encoder(minilm):
    model, tokenizer = minilm
    assert registry.model_kind(model) == "encoder" and registry.context_length(model) == 512
    enc = tokenizer("A sentence to embed.", return_tensors="pt")
    with torch.no_grad():
        out = model(**enc, output_attentions=True)
    assert out.last_hidden_state.shape[-1] == 384 and len(out.attentions) == 6


def test_bad_model_ids_give_clear_messages():
    with pytest.raises(registry.ModelUnavailableError, match="not a Hugging Face model id"):
        registry.load_model("../etc/passwd")
    with pytest.raises(registry.ModelUnavailableError, match="No model name"):
        registry.load_model("  ")
    with pytest.raises(registry.ModelUnavailableError, match="local Hugging Face cache"):
        registry.load_model("nobody-here/no-such-model-xyz")


def test_two_models_loaded_at_once_in_two_threads_are_both_whole(smollm2):
    """A cold server: two students open two lessons at once, each loading a model in its own thread."""
    import threading

    from models.registry import load_model

    loaded, errors = {}, []

    def load(name):
        try:
            loaded[name] = load_model(name)[0]
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(f"{name}: {exc}")

    threads = [threading.Thread(target=load, args=(name,)) for name in ("smollm2", "minilm", "smollm2")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    for name, model in loaded.items():
        assert not any(p.is_meta for p in model.parameters()), name
