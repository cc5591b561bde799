"""The PEFT families (models/lora/peft_families.py) against PEFT itself: every family's trained count by our formula,
by counting, and by PEFT's get_nb_trainable_parameters / print_trainable_parameters; the LoRA family beside our
inject_lora; the cut model against the whole one; prompt tuning over the cut model against PEFT on the whole."""

import copy
import re

import pytest
import torch
from peft import PromptTuningConfig, get_peft_model
from transformers import LlamaConfig, LlamaForCausalLM

from models.lora.adapters import count_parameters, inject_lora, lora_layers
from models.lora.finetune import hidden_at
from models.lora.peft_families import (
    FamiliesConfig,
    FamiliesTrainer,
    build_family,
    formula_count,
    next_token_loss,
    top_model,
)
from models.registry import SMOLLM2_ARCHITECTURE

SIZES = [
    ("lora", 1),
    ("lora", 4),
    ("ia3", 0),
    ("prompt", 3),
    ("prefix", 1),
    ("prefix", 5),
    ("ln", 0),
]


def tiny_llama(seed: int = 0, layers: int = 3) -> LlamaForCausalLM:
    """Llama shapes with grouped-query attention (4 heads, 2 kv heads), as SmolLM2 has (9 and 3)."""
    torch.manual_seed(seed)
    config = LlamaConfig(
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=layers,
        num_attention_heads=4,
        num_key_value_heads=2,
        vocab_size=50,
        attn_implementation="eager",
    )
    model = LlamaForCausalLM(config).eval()
    for p in model.parameters():
        p.requires_grad_(False)
    return model


class CharTokenizer:
    eos_token_id = 0

    def __call__(self, text, return_tensors=None):
        return {"input_ids": torch.tensor([[ord(c) % 50 for c in text]])}


def test_cut_model_gives_the_whole_models_loss_and_leaves_the_base_alone():
    model = tiny_llama()
    ids = torch.randint(0, 50, (3, 10), generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        whole = model(input_ids=ids, labels=ids).loss
        cut = top_model(model, 2)
        loss, _ = next_token_loss(cut, hidden_at(model, ids, 1), ids)
    torch.testing.assert_close(loss, whole, atol=1e-6, rtol=0)
    assert model.config.num_hidden_layers == 3 and len(model.model.layers) == 3
    assert cut.model.layers[0].self_attn.q_proj.weight is model.model.layers[1].self_attn.q_proj.weight


@pytest.mark.parametrize("family,size", SIZES + [("full", 0)])
def test_trained_count_equals_peft_and_the_formula(family, size, capsys):
    base = tiny_llama()
    model = build_family(top_model(base, 2), family, size, ("q_proj", "v_proj"))
    trainable, _ = count_parameters(model)
    assert trainable == formula_count(family, size, base.config, 2, ("q_proj", "v_proj"))
    if family == "full":
        return  # plain torch, no PEFT model to ask
    assert model.get_nb_trainable_parameters()[0] == trainable
    model.print_trainable_parameters()
    printed = re.search(r"trainable params: ([\d,]+)", capsys.readouterr().out)
    assert int(printed.group(1).replace(",", "")) == trainable
    assert all(not p.requires_grad for p in base.parameters()), "the base stays frozen"


def test_formula_on_smollm2_shapes():
    """Hand-counted on SmolLM2-135M (d=576, FFN 1536, 9 heads, 3 kv heads of 64): two adapted layers."""
    arch = SMOLLM2_ARCHITECTURE
    assert formula_count("lora", 1, arch, 2) == 2 * ((576 + 576) + (576 + 192))
    assert formula_count("ia3", 0, arch, 2) == 2 * (192 + 192 + 1536)
    assert formula_count("prompt", 16, arch, 2) == 16 * 576
    assert formula_count("prefix", 16, arch, 2) == 16 * 2 * 2 * 192
    assert formula_count("ln", 0, arch, 2) == 5 * 576
    embeddings = arch["vocab_size"] * arch["hidden_size"]
    total = formula_count("full", 0, arch, 30) + embeddings + arch["hidden_size"]
    assert total == 134_515_008  # SmolLM2-135M's published size (tied embeddings)


def test_lora_family_equals_our_inject_lora():
    """PEFT's LoraConfig through build_family and models.lora.adapters.inject_lora on the same cut model, same A and B."""
    base = tiny_llama()
    cut = top_model(base, 2)
    theirs = build_family(copy.deepcopy(cut), "lora", 4, ("q_proj", "v_proj"))
    ours = inject_lora(copy.deepcopy(cut), ("q_proj", "v_proj"), r=4, alpha=8)
    assert count_parameters(ours)[0] == count_parameters(theirs)[0]
    peft_layers = {
        n.removeprefix("base_model.model."): m
        for n, m in theirs.named_modules()
        if hasattr(m, "lora_A") and "default" in getattr(m, "lora_A", {})
    }
    g = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for name, layer in lora_layers(ours).items():
            layer.lora_A.copy_(torch.randn(layer.lora_A.shape, generator=g) * 0.3)
            layer.lora_B.copy_(torch.randn(layer.lora_B.shape, generator=g) * 0.3)
            peft_layers[name].lora_A["default"].weight.copy_(layer.lora_A)
            peft_layers[name].lora_B["default"].weight.copy_(layer.lora_B)
    ids = torch.randint(0, 50, (2, 9), generator=g)
    hidden = hidden_at(base, ids, 1)
    with torch.no_grad():
        torch.testing.assert_close(next_token_loss(ours, hidden, ids)[0], next_token_loss(theirs, hidden, ids)[0])
        torch.testing.assert_close(ours(inputs_embeds=hidden).logits, theirs(inputs_embeds=hidden).logits)


def test_prompt_tuning_over_all_layers_is_peft_on_the_whole_model():
    """With every layer adapted, the cached input is the embeddings: the same logits as PEFT on input_ids."""
    base = tiny_llama()
    ids = torch.randint(0, 50, (2, 7), generator=torch.Generator().manual_seed(2))
    torch.manual_seed(0)
    ours = build_family(top_model(base, 3), "prompt", 4)
    torch.manual_seed(0)
    theirs = get_peft_model(copy.deepcopy(base), PromptTuningConfig(num_virtual_tokens=4, task_type="CAUSAL_LM"))
    with torch.no_grad():
        mine = ours(inputs_embeds=hidden_at(base, ids, 0)).logits
        reference = theirs(input_ids=ids).logits
    torch.testing.assert_close(mine, reference)


def test_identity_families_start_at_the_base_and_every_run_trains():
    text = "the cat sat on the mat. " * 40
    config = FamiliesConfig(
        lora_ranks=(2,),
        prompt_tokens=(2,),
        prefix_tokens=(2,),
        steps=4,
        seq_len=8,
        batch_size=2,
        heldout_sequences=2,
        max_train_sequences=8,
        eval_every=2,
        lora_lr=2e-2,
        full_lr=1e-2,
    )
    tuner = FamiliesTrainer(tiny_llama(), CharTokenizer(), text, config)
    start = tuner.initial_heldout
    for name in ("LoRA r=2", "IA³", "LN tuning", "full"):
        assert start[name] == pytest.approx(tuner.base_heldout, abs=1e-6), name
    assert tuner.total_units == 4 * 6
    tuner.train_steps(5)  # one round of six runs is not finished: the sixth has not stepped
    assert [tuner.steps[n] for n in tuner.names] == [1, 1, 1, 1, 1, 0]
    tuner.train_steps(100)
    assert tuner.done and all(s == 4 for s in tuner.steps.values())
    rows = {row["run"]: row for row in tuner.summary()}
    for name, row in rows.items():
        assert row["heldout_loss"] < start[name], name
        assert [s for s, _ in tuner.history[name]] == [0, 2, 4]
    assert rows["LoRA r=2"]["trained_parameters"] == 2 * 2 * ((32 + 32) + (32 + 16))


def test_bad_settings_are_messages():
    with pytest.raises(ValueError, match="at least one run"):
        FamiliesConfig(lora_ranks=(), prompt_tokens=(), prefix_tokens=(), ia3=False, ln=False, full=False)
    with pytest.raises(ValueError, match="max_train_sequences"):
        FamiliesConfig(batch_size=8, max_train_sequences=4)
    with pytest.raises(ValueError, match="q_proj"):
        FamiliesTrainer(tiny_llama(), CharTokenizer(), "x" * 400, FamiliesConfig(target_modules=("qkv",)))
    with pytest.raises(ValueError, match="at most"):
        FamiliesTrainer(tiny_llama(), CharTokenizer(), "x" * 400, FamiliesConfig(top_layers=5))


@pytest.mark.slow
def test_smollm2_families_on_wiki_text(smollm2):
    """The tab's default runs on the text the tab builds from the wiki corpus (~7 min on a loaded 2-core CPU)."""
    from models.corpora import load_corpus

    model, tokenizer = smollm2
    text = " ".join(" ".join(s) for s in load_corpus("wiki"))
    tuner = FamiliesTrainer(model, tokenizer, text, FamiliesConfig())
    while not tuner.done:
        tuner.train_steps(50)
    rows = {row["run"]: row for row in tuner.summary()}
    for name, row in rows.items():
        assert row["trained_parameters"] == formula_count(
            row["family"], row["size"], model.config, 2, ("q_proj", "v_proj")
        )
        assert row["heldout_loss"] < tuner.initial_heldout[name], name
    assert min(rows, key=lambda n: rows[n]["heldout_loss"]) == "full"
