"""LoRA, QLoRA's quantisation and the sandboxes against their references: PEFT (get_peft_model, merge_and_unload,
trainable counts), torch.linalg.svd (Eckart–Young), the NF4 table bitsandbytes ships and the QLoRA paper's
construction of it, torch.unique (distinct values per block), random subspaces drawn by Monte Carlo (the chance
level of the subspace similarity); and what the bundled models are: SmolLM2 a dequantised Q4_1 file, MiniLM float32."""

import copy
import math

import pytest
import torch
from peft import LoraConfig, get_peft_model
from torch import nn
from transformers import LlamaConfig, LlamaForCausalLM

from models.lora.adapters import (
    LoRAConfig,
    LoRALinear,
    count_parameters,
    inject_lora,
    lora_layers,
    merge_lora,
)
from models.lora.finetune import (
    FineTuneConfig,
    LoRAFineTuner,
    forward_top,
    hidden_at,
    random_subspace_similarity,
    subspace_similarity,
)
from models.lora.quantize import (
    BLOCKS,
    NF4_TABLE,
    bits_per_parameter,
    block_absmax,
    dequantize,
    distinct_per_block,
    layer_matrices,
    matrix_report,
    normal_float_levels,
    quantization_error,
    quantize,
)
from models.lora.sandbox import SandboxConfig, SandboxTrainer, eckart_young_floor, train_to
from models.registry import SMOLLM2_ARCHITECTURE


def tiny_llama(seed: int = 0) -> LlamaForCausalLM:
    torch.manual_seed(seed)
    config = LlamaConfig(
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=3,
        num_attention_heads=4,
        num_key_value_heads=2,
        vocab_size=50,
        attn_implementation="eager",
    )
    return LlamaForCausalLM(config).eval()


def peft_and_ours(r=4, alpha=8, rslora=False, targets=("q_proj", "v_proj")):
    """The same base weights adapted by PEFT and by us, with the same (random, non-zero) A and B."""
    base = tiny_llama()
    theirs = get_peft_model(
        copy.deepcopy(base),
        LoraConfig(
            r=r,
            lora_alpha=alpha,
            target_modules=list(targets),
            lora_dropout=0.0,
            use_rslora=rslora,
        ),
    )
    ours = inject_lora(copy.deepcopy(base), targets, r=r, alpha=alpha, rslora=rslora)
    g = torch.Generator().manual_seed(1)
    peft_layers = {
        n.removeprefix("base_model.model."): m
        for n, m in theirs.named_modules()
        if hasattr(m, "lora_A") and "default" in getattr(m, "lora_A", {})
    }
    layers = lora_layers(ours)
    assert layers.keys() == peft_layers.keys()
    with torch.no_grad():
        for name, layer in layers.items():
            layer.lora_A.copy_(torch.randn(layer.lora_A.shape, generator=g) * 0.3)
            layer.lora_B.copy_(torch.randn(layer.lora_B.shape, generator=g) * 0.3)
            peft_layers[name].lora_A["default"].weight.copy_(layer.lora_A)
            peft_layers[name].lora_B["default"].weight.copy_(layer.lora_B)
    return base, theirs, ours, peft_layers, layers


@pytest.mark.parametrize("rslora", [False, True])
def test_outputs_and_gradients_equal_peft(rslora):
    _, theirs, ours, peft_layers, layers = peft_and_ours(r=4, alpha=8, rslora=rslora)
    ids = torch.randint(0, 50, (2, 7), generator=torch.Generator().manual_seed(2))
    out_theirs = theirs(input_ids=ids, labels=ids)
    out_ours = ours(input_ids=ids, labels=ids)
    torch.testing.assert_close(out_ours.logits, out_theirs.logits, atol=1e-6, rtol=0)
    out_theirs.loss.backward()
    out_ours.loss.backward()
    for name, layer in layers.items():
        torch.testing.assert_close(
            layer.lora_A.grad, peft_layers[name].lora_A["default"].weight.grad, atol=1e-6, rtol=0
        )
        torch.testing.assert_close(
            layer.lora_B.grad, peft_layers[name].lora_B["default"].weight.grad, atol=1e-6, rtol=0
        )
    expected = 8 / math.sqrt(4) if rslora else 8 / 4
    assert all(layer.scaling == expected for layer in layers.values())
    assert all(m.scaling["default"] == expected for m in peft_layers.values())


def test_default_init_starts_exactly_at_the_base_model():
    base = tiny_llama()
    ids = torch.randint(0, 50, (2, 9))
    adapted = inject_lora(copy.deepcopy(base), ["q_proj", "v_proj", "down_proj"], r=2, alpha=4)
    with torch.no_grad():
        assert torch.equal(adapted(input_ids=ids).logits, base(input_ids=ids).logits)
    assert all(torch.count_nonzero(layer.lora_B) == 0 for layer in lora_layers(adapted).values())


def test_init_of_A_has_peft_distribution():
    """Kaiming-uniform(a=√5): uniform on ±1/√in; our values' quantiles match PEFT's on a wide layer."""
    torch.manual_seed(0)
    base = nn.Linear(2048, 256, bias=False)
    ours = LoRALinear(base, r=64, alpha=16).lora_A.detach().flatten()
    theirs_model = get_peft_model(nn.Sequential(copy.deepcopy(base)), LoraConfig(r=64, target_modules=["0"]))
    theirs = theirs_model.base_model.model[0].lora_A["default"].weight.detach().flatten()
    bound = 1 / math.sqrt(2048)
    assert ours.abs().max() <= bound and theirs.abs().max() <= bound
    q = torch.linspace(0.01, 0.99, 25)
    torch.testing.assert_close(torch.quantile(ours, q), torch.quantile(theirs, q), atol=0.01 * bound, rtol=0)
    assert not torch.equal(ours, torch.zeros_like(ours))


@pytest.mark.parametrize("rslora", [False, True])
def test_merge_equals_peft_merge_and_unload(rslora):
    _, theirs, ours, _, _ = peft_and_ours(r=3, alpha=5, rslora=rslora)
    merged_theirs = theirs.merge_and_unload()
    merged_ours = merge_lora(ours)
    assert not lora_layers(merged_ours) and lora_layers(ours), "a copy is merged; the adapted model stays"
    theirs_weights = dict(merged_theirs.named_parameters())
    for name, p in merged_ours.named_parameters():
        torch.testing.assert_close(p, theirs_weights[name], atol=1e-6, rtol=0)
    ids = torch.randint(0, 50, (1, 6))
    with torch.no_grad():
        torch.testing.assert_close(merged_ours(input_ids=ids).logits, ours(input_ids=ids).logits, atol=1e-5, rtol=0)


def test_trainable_counts_equal_peft_on_smollm2_shapes():
    with torch.device("meta"):
        config = LlamaConfig(**SMOLLM2_ARCHITECTURE)
        model = LlamaForCausalLM(config)
        theirs = get_peft_model(
            copy.deepcopy(model), LoraConfig(r=1, lora_alpha=2, target_modules=["q_proj", "v_proj"])
        )
        ours = inject_lora(model, ["q_proj", "v_proj"], r=1, alpha=2)
    peft_trainable, peft_total = theirs.get_nb_trainable_parameters()
    assert count_parameters(ours) == (peft_trainable, peft_total)
    assert peft_trainable == 57_600  # the number: 30 layers x [q (576+576) + v (576+192)]


def test_plain_linear_equals_peft():
    torch.manual_seed(0)
    base = nn.Linear(12, 10)
    ours = inject_lora(copy.deepcopy(base), r=3, alpha=6)
    theirs = get_peft_model(nn.Sequential(copy.deepcopy(base)), LoraConfig(r=3, lora_alpha=6, target_modules=["0"]))
    layer = theirs.base_model.model[0]
    with torch.no_grad():
        ours.lora_B.normal_()
        layer.lora_A["default"].weight.copy_(ours.lora_A)
        layer.lora_B["default"].weight.copy_(ours.lora_B)
    x = torch.randn(5, 12)
    torch.testing.assert_close(ours(x), theirs(x), atol=1e-6, rtol=0)
    torch.testing.assert_close(merge_lora(ours)(x), ours(x), atol=1e-6, rtol=0)
    assert count_parameters(ours) == (3 * 12 + 10 * 3, 12 * 10 + 10 + 3 * 22)


def test_bad_input_messages():
    with pytest.raises(ValueError, match="at least 1"):
        LoRAConfig(r=0)
    with pytest.raises(ValueError, match="alpha must be positive"):
        LoRAConfig(alpha=0)
    with pytest.raises(ValueError, match="smaller side 8"):
        LoRALinear(nn.Linear(8, 16), r=9, alpha=1)
    with pytest.raises(ValueError, match="k_proj, lm_head, o_proj, q_proj"):
        inject_lora(tiny_llama(), ["query"], r=2)


# ---------------------------------------------------------------- QLoRA's quantisation
def test_nf4_table_equals_the_papers_construction():
    """bitsandbytes' table (transcribed; bitsandbytes does not install here) = create_normal_map(0.9677083)."""
    torch.testing.assert_close(normal_float_levels(), torch.tensor(NF4_TABLE), atol=1e-6, rtol=0)
    assert len(NF4_TABLE) == 16 and NF4_TABLE[7] == 0.0


@pytest.mark.parametrize("kind", ["int4", "nf4"])
@pytest.mark.parametrize("block_size", [16, 64, 256])
def test_blockwise_round_trip_within_half_a_step(kind, block_size):
    w = torch.randn(37, 29)  # not a multiple of the block: padding is handled
    q = quantize(w, kind, block_size)
    back = dequantize(q)
    assert back.shape == w.shape
    table = torch.tensor(NF4_TABLE) if kind == "nf4" else torch.arange(-7, 8) / 7
    half_gap = (table[1:] - table[:-1]).max() / 2
    absmax = block_absmax(q).repeat_interleave(block_size)[: w.numel()].view_as(w)
    assert ((back - w).abs() <= half_gap * absmax + 1e-6).all()
    # the block maximum is always exact (it is the level ±1)
    flat, flat_back = w.flatten(), back.flatten()
    i = flat[:block_size].abs().argmax()
    assert torch.isclose(flat_back[i], flat[i])


def test_double_quantisation_costs_and_error():
    w = torch.randn(576, 576) * 0.02
    single, double = quantize(w, "nf4", 64), quantize(w, "nf4", 64, double_quant=True)
    assert bits_per_parameter(64) == 4.5
    assert single.bits_per_parameter == pytest.approx(4.5, abs=2e-3)
    assert double.bits_per_parameter == pytest.approx(bits_per_parameter(64, True), abs=2e-3)
    assert bits_per_parameter(64, True) == pytest.approx(4.127, abs=1e-3)  # the paper's 0.127 bits
    err_single = (dequantize(single) - w).pow(2).mean()
    err_double = (dequantize(double) - w).pow(2).mean()
    assert err_double < 1.05 * err_single  # the second level barely adds error


def test_nf4_beats_int4_on_normal_weights():
    w = torch.randn(256, 256)
    err = {k: (dequantize(quantize(w, k, 64)) - w).pow(2).mean() for k in ("int4", "nf4")}
    assert err["nf4"] < err["int4"]


def test_distinct_per_block_equals_torch_unique():
    w = torch.randn(8, 96, generator=torch.Generator().manual_seed(0))
    w[0, :32] = 0.5  # one block of a single value
    four_bit = dequantize(quantize(w, "int4", 32))  # 15 levels per block of 32
    for weight in (w, four_bit):
        expected = [len(torch.unique(block)) for block in weight.reshape(-1, 32)]
        assert distinct_per_block(weight, 32).tolist() == expected
    assert distinct_per_block(w, 32)[0] == 1 and distinct_per_block(w, 32)[1:].min() == 32
    assert distinct_per_block(four_bit, 32).max() <= 15


def test_bundled_smollm2_is_dequantised_q4_1_and_minilm_is_float32(smollm2, minilm):
    """What the lesson says on every SmolLM2 tab: at most 16 distinct values in each block of 32 (Q4_1), checked
    on the first, middle and last layers; MiniLM's blocks hold 32 (nearly all), and on its first query matrix int4's error is
    1.42x NF4's at blocks of 64 (the NF4 preset's claim)."""
    model, _ = smollm2
    for layer in (0, 15, 29):
        for name, weight in layer_matrices(model)[layer].items():
            assert distinct_per_block(weight, 32).max() <= 16, (layer, name)
    query = layer_matrices(minilm[0])[0]["attention.self.query"]
    distinct = distinct_per_block(query, 32)
    assert distinct.max() == 32 and distinct.float().mean() > 31.9  # a repeat in a block is rare, not the rule
    errors = {kind: quantization_error(query, kind, 64)["mse"] for kind in ("int4", "nf4")}
    assert errors["int4"] / errors["nf4"] == pytest.approx(1.42, abs=0.005)


def test_matrix_report_on_a_tiny_llama():
    model = tiny_llama()
    names = list(layer_matrices(model)[0])
    assert names == ["self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj"] + [
        "mlp.gate_proj",
        "mlp.up_proj",
        "mlp.down_proj",
    ]
    report = matrix_report(model, 2, "v_proj")
    assert report["name"] == "self_attn.v_proj" and report["shape"] == (16, 32)
    assert len(report["errors"]) == 3 * len(BLOCKS) and report["distinct_max"] == 32
    assert report["n_params"] == sum(p.numel() for p in model.parameters())
    assert abs(report["normed"]).max() <= 1
    assert matrix_report(model, 0, "", max_weights=64)["quantised"] == 64
    with pytest.raises(ValueError, match="layers 0–2"):
        matrix_report(model, 3, "q_proj")
    with pytest.raises(ValueError, match="it has: self_attn.q_proj"):
        matrix_report(model, 0, "query")


# ---------------------------------------------------------------- the sandbox
def test_eckart_young_floor_equals_truncated_svd():
    m = torch.randn(20, 12, dtype=torch.float64)
    u, s, vh = torch.linalg.svd(m, full_matrices=False)
    for r in (1, 3, 7):
        best = (u[:, :r] * s[:r]) @ vh[:r]
        assert eckart_young_floor(m, r) == pytest.approx(((m - best).pow(2).sum() / m.pow(2).sum()).item(), rel=1e-9)


def test_floors_from_one_svd_equal_eckart_young_and_vanish_from_k():
    trainer = SandboxTrainer(SandboxConfig(d=16, true_rank=3, ranks=(1,), n_train=8))
    floors = trainer.floors()
    assert sorted(floors) == list(range(1, 17))
    for r in (1, 2):
        assert floors[r] == pytest.approx(eckart_young_floor(trainer.target, r), rel=1e-9) and floors[r] > 0.05
    assert all(floors[r] == 0.0 == eckart_young_floor(trainer.target, r) for r in range(3, 17))


def test_train_to_gives_the_live_runs_numbers_whatever_the_chunks():
    """The first view's run (trained in chunks of 5) ends where a live run in other chunks ends."""
    config = SandboxConfig(d=16, true_rank=2, ranks=(1, 4), n_train=64)
    trainer, history = train_to(config, 23)
    assert [row["step"] for row in history] == [5, 10, 15, 20, 23]
    live = SandboxTrainer(config)
    live.train_steps(7), live.train_steps(16)
    assert [row["heldout_error"] for row in trainer.summary()] == [row["heldout_error"] for row in live.summary()]


def test_sandbox_recovers_rank_k_at_r_ge_k_and_not_below():
    trainer = SandboxTrainer(SandboxConfig(d=32, true_rank=4, ranks=(1, 2, 4, 8), n_train=256))
    trainer.train_steps(150)
    rows = {row["run"]: row for row in trainer.summary()}
    for r in (4, 8):
        assert rows[f"r={r}"]["heldout_error"] < 1e-2
    assert rows["full"]["heldout_error"] < 1e-2
    for r in (1, 2):
        floor = rows[f"r={r}"]["eckart_young_floor"]
        assert floor > 0.1
        assert floor - 1e-4 <= rows[f"r={r}"]["heldout_error"] < floor + 0.05


def test_sandbox_rejects_impossible_settings():
    with pytest.raises(ValueError, match="between 1 and the layer's width"):
        SandboxConfig(d=16, ranks=(1, 32))
    with pytest.raises(ValueError, match="learning rate"):
        SandboxConfig(lr=0)
    trainer = SandboxTrainer(SandboxConfig(d=8, true_rank=2, ranks=(2,), lr=1e30))
    with pytest.raises(FloatingPointError, match="lower the learning rate"):
        trainer.train_steps(50)


# ---------------------------------------------------------------- the real-model trainer
class CharTokenizer:
    eos_token_id = 0

    def __call__(self, text, return_tensors=None):
        return {"input_ids": torch.tensor([[ord(c) % 50 for c in text]])}

    def decode(self, ids, skip_special_tokens=True):
        return "".join(chr(97 + int(i) % 26) for i in ids)


def test_cached_bottom_layers_give_the_whole_models_loss():
    model = tiny_llama()
    ids = torch.randint(0, 50, (3, 10))
    with torch.no_grad():
        full = model(input_ids=ids, labels=ids).loss
        top = forward_top(model, hidden_at(model, ids, 2), ids, 2)
    torch.testing.assert_close(top, full, atol=1e-6, rtol=0)


def test_finetuner_runs_start_at_the_base_and_train():
    text = "the cat sat on the mat. " * 40
    config = FineTuneConfig(
        ranks=(1, 4),
        full=True,
        top_layers=2,
        seq_len=8,
        batch_size=2,
        heldout_sequences=2,
        max_train_sequences=8,
        eval_every=2,
        lr=1e-2,
        full_lr=1e-2,
    )
    tuner = LoRAFineTuner(tiny_llama(), CharTokenizer(), text, config)
    start = tuner.initial_heldout
    assert len(set(start.values())) == 1, "every run starts at the base model's loss"
    tuner.train_steps(4)
    rows = {row["run"]: row for row in tuner.summary()}
    assert rows["r=1"]["trained_parameters"] == 2 * ((32 + 32) + (32 + 16))  # q: 32->32, v: 32->16
    assert rows["full"]["trained_parameters"] == 2 * (32 * 32 + 16 * 32)
    assert all(row["heldout_loss"] < start["full"] for row in rows.values())
    deltas = tuner.delta_weights(2, "q_proj")
    assert torch.linalg.matrix_rank(deltas["r=1"]) == 1
    with pytest.raises(ValueError, match="too short"):
        LoRAFineTuner(tiny_llama(), CharTokenizer(), "short text", config)
    with pytest.raises(ValueError, match="q_proj"):
        LoRAFineTuner(tiny_llama(), CharTokenizer(), text, FineTuneConfig(target_modules=("qkv",)))


def test_subspace_similarity_matches_the_formula():
    g = torch.Generator().manual_seed(0)
    a1, a2 = torch.randn(3, 10, generator=g), torch.randn(5, 10, generator=g)
    phi = subspace_similarity(a1, a2)
    u1 = torch.linalg.svd(a1.double()).Vh[:3]
    u2 = torch.linalg.svd(a2.double()).Vh[:5]
    for i in range(1, 4):
        for j in range(1, 6):
            expected = torch.linalg.matrix_norm(u1[:i] @ u2[:j].T).pow(2) / min(i, j)
            assert phi[i - 1, j - 1].item() == pytest.approx(expected.item(), abs=1e-6)
    assert subspace_similarity(a1, a1).diagonal().allclose(torch.ones(3))


def test_chance_level_of_the_subspace_similarity_is_max_over_d():
    """φ(i, j) of random subspaces (Monte Carlo, 2,000 pairs) averages max(i, j)/d: 1/d at φ(1, 1), not max(r1, r2)/d."""
    g = torch.Generator().manual_seed(0)
    d, r1, r2 = 24, 3, 6
    phis = torch.stack(
        [subspace_similarity(torch.randn(r1, d, generator=g), torch.randn(r2, d, generator=g)) for _ in range(2000)]
    ).mean(0)
    for i in range(1, r1 + 1):
        for j in range(1, r2 + 1):
            assert phis[i - 1, j - 1].item() == pytest.approx(random_subspace_similarity(i, j, d), rel=0.08)
    assert random_subspace_similarity(1, 1, d) == 1 / d
