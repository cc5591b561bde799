"""models/moe/model.py against trusted references: transformers' Mixtral sparse block and load-balancing loss, its
DeepSeek-V3 router, and plain-Python transcriptions of capacity and expert choice."""

import math

import pytest
import torch
from transformers import DeepseekV3Config, MixtralConfig
from transformers.models.deepseek_v3.modeling_deepseek_v3 import DeepseekV3TopkRouter
from transformers.models.mixtral.modeling_mixtral import (
    MixtralSparseMoeBlock,
    load_balancing_loss_func,
)

from models.moe.model import (
    BalanceComparison,
    MoEConfig,
    MoELayer,
    MoETrainer,
    TinyMoELM,
    choices_changed_by_bias,
    load_balancing_loss,
    load_measures,
    over_capacity,
    update_router_bias,
)

TEXT = "the cat sat on the mat. the dog sat on the log. " * 40


def tiny(**overrides) -> MoEConfig:
    base = dict(d_model=32, n_heads=4, n_experts=6, top_k=2, d_expert=48, router_init_std=0.5)
    return MoEConfig(**(base | overrides))


def mixtral_with_our_weights(layer: MoELayer) -> MixtralSparseMoeBlock:
    c = layer.config
    config = MixtralConfig(
        hidden_size=c.d_model,
        intermediate_size=c.d_expert,
        num_local_experts=c.n_experts,
        num_experts_per_tok=c.top_k,
        router_jitter_noise=0.0,
    )
    block = MixtralSparseMoeBlock(config).eval()
    with torch.no_grad():
        block.gate.weight.copy_(layer.gate.weight)
        ex = layer.experts
        # Mixtral: gate_up_proj (E, 2F, D) = [gate; up] as out x in; down_proj (E, D, F)
        block.experts.gate_up_proj.copy_(torch.cat([ex.w_gate, ex.w_up], dim=-1).transpose(1, 2))
        block.experts.down_proj.copy_(ex.w_down.transpose(1, 2))
    return block


def test_aux_loss_equals_transformers_load_balancing_loss():
    torch.manual_seed(0)
    E, k = 8, 2
    layers = tuple(torch.randn(50, E) * 2 for _ in range(3))  # three layers' router logits (N, E)
    theirs = load_balancing_loss_func(layers, num_experts=E, top_k=k)
    # transformers pools the layers' rows and counts f per token (sums to k): k times ours on the pooled rows
    pooled = torch.cat(layers)
    probs = pooled.softmax(-1)
    ours = load_balancing_loss(probs, probs.topk(k).indices, E)
    torch.testing.assert_close(k * ours, theirs)
    one = load_balancing_loss_func(layers[:1], num_experts=E, top_k=k)
    probs1 = layers[0].softmax(-1)
    torch.testing.assert_close(k * load_balancing_loss(probs1, probs1.topk(k).indices, E), one)
    # and the layer reports the same number for its own router logits
    layer = MoELayer(tiny(n_experts=E, top_k=k)).eval()
    _, routing = layer(torch.randn(2, 7, 32))
    theirs = load_balancing_loss_func((routing.logits,), num_experts=E, top_k=k)
    torch.testing.assert_close(k * routing.aux_loss, theirs)


def test_aux_loss_is_one_when_even_and_e_when_collapsed():
    E = 4
    even = torch.full((8, E), 1 / E)
    assert float(load_balancing_loss(even, torch.arange(8)[:, None] % E, E)) == pytest.approx(1.0)
    collapsed = torch.nn.functional.one_hot(torch.zeros(8, dtype=torch.long), E).float()
    assert float(load_balancing_loss(collapsed, torch.zeros(8, 1, dtype=torch.long), E)) == pytest.approx(E)


@pytest.mark.parametrize("top_k", [1, 2, 3])
def test_softmax_layer_equals_mixtral_sparse_block(top_k):
    torch.manual_seed(1)
    layer = MoELayer(tiny(top_k=top_k)).eval()
    block = mixtral_with_our_weights(layer)
    x = torch.randn(3, 9, 32)
    ours, routing = layer(x)
    torch.testing.assert_close(ours, block(x.clone()), rtol=1e-5, atol=1e-5)
    logits, weights, idx = block.gate(x.reshape(-1, 32))
    torch.testing.assert_close(routing.logits, logits)
    assert torch.equal(routing.topk_idx, idx)
    torch.testing.assert_close(routing.topk_weights, weights)


def test_gradients_equal_mixtral():
    torch.manual_seed(2)
    layer = MoELayer(tiny()).train()
    block = mixtral_with_our_weights(layer).train()
    x = torch.randn(2, 11, 32)
    layer(x)[0].square().sum().backward()
    block(x.clone()).square().sum().backward()
    torch.testing.assert_close(layer.gate.weight.grad, block.gate.weight.grad, rtol=1e-4, atol=1e-5)
    ours_down = layer.experts.w_down.grad.transpose(1, 2)
    torch.testing.assert_close(ours_down, block.experts.down_proj.grad, rtol=1e-4, atol=1e-5)


def test_sigmoid_router_with_bias_equals_deepseek_v3():
    torch.manual_seed(3)
    E, k = 8, 3
    layer = MoELayer(tiny(n_experts=E, top_k=k, router="sigmoid")).eval()
    layer.bias.copy_(torch.linspace(-0.3, 0.3, E))  # a bias strong enough to change the selection
    config = DeepseekV3Config(
        hidden_size=32,
        n_routed_experts=E,
        num_experts_per_tok=k,
        n_group=1,
        topk_group=1,
        norm_topk_prob=True,
        routed_scaling_factor=1.0,
    )
    router = DeepseekV3TopkRouter(config)
    with torch.no_grad():
        router.weight.copy_(layer.gate.weight)
        router.e_score_correction_bias.copy_(layer.bias)
    x = torch.randn(40, 32)
    _, routing = layer(x)
    logits, weights, idx = router(x)
    torch.testing.assert_close(routing.logits, logits)
    # DeepSeek returns its top-k unsorted: compare as {expert: weight} per token
    order_theirs, order_ours = idx.argsort(-1), routing.topk_idx.argsort(-1)
    assert torch.equal(idx.gather(1, order_theirs), routing.topk_idx.gather(1, order_ours))
    torch.testing.assert_close(weights.gather(1, order_theirs), routing.topk_weights.gather(1, order_ours))
    without_bias = layer.gate(x).sigmoid().topk(k).indices
    assert not torch.equal(without_bias.sort(-1).values, routing.topk_idx.sort(-1).values)


def test_bias_update_narrows_the_spread_of_a_skewed_router():
    torch.manual_seed(4)
    layer = MoELayer(tiny(n_experts=8, top_k=2, router_init_std=0.05)).eval()
    with torch.no_grad():
        layer.gate.weight[0] += 0.05  # inputs share a direction that experts 0 and 1 favour
        layer.gate.weight[1] += 0.03
    x = torch.randn(400, 32) + 1.0
    before = load_measures(layer(x)[1].load)
    for _ in range(200):
        update_router_bias(layer.bias, layer(x)[1].load, 0.01)
    after = load_measures(layer(x)[1].load)
    assert before["load_cv"] > 0.8
    assert after["load_cv"] < 0.3 * before["load_cv"]
    assert layer.bias[0] < 0 < layer.bias[-1]  # the overloaded expert pushed down, an idle one up


def _over_capacity_loop(idx, E, capacity):
    """Plain transcription of GShard's rule: serve all first choices in token order, then second choices."""
    n, k = idx.shape
    used, dropped = [0] * E, torch.zeros(n, k, dtype=torch.bool)
    for slot in range(k):
        for token in range(n):
            e = int(idx[token, slot])
            if used[e] >= capacity:
                dropped[token, slot] = True
            else:
                used[e] += 1
    return dropped


def test_capacity_drops_like_the_plain_rule_and_the_layer_skips_them():
    torch.manual_seed(5)
    idx = torch.stack([torch.randperm(5)[:2] for _ in range(30)])  # (30, 2) distinct per token
    for capacity in (1, 4, 9, 30):
        assert torch.equal(over_capacity(idx, 5, capacity), _over_capacity_loop(idx, 5, capacity))
    layer = MoELayer(tiny(capacity_factor=0.5)).eval()
    x = torch.randn(24, 32)
    y, routing = layer(x)
    capacity = math.ceil(0.5 * 24 * 2 / 6)
    assert torch.equal(routing.dropped, _over_capacity_loop(routing.topk_idx, 6, capacity))
    assert routing.dropped.any()
    full = MoELayer(tiny()).eval()
    full.load_state_dict(layer.state_dict())
    y_full, _ = full(x)
    untouched = ~routing.dropped.any(-1)  # tokens that kept both experts get the same output
    torch.testing.assert_close(y[untouched], y_full[untouched])
    lost_all = routing.dropped.all(-1)
    assert torch.equal(y[lost_all], torch.zeros_like(y[lost_all]))


def test_expert_choice_gives_every_expert_its_capacity():
    torch.manual_seed(6)
    layer = MoELayer(tiny(router="expert_choice")).eval()
    x = torch.randn(30, 32)
    y, routing = layer(x)
    torch.testing.assert_close(routing.load, torch.full((6,), 1 / 6))
    # reference: each expert's top-C tokens by softmax probability, outputs summed with those weights
    probs = layer.gate(x).softmax(-1)
    capacity = math.ceil(30 * 2 / 6)
    expected = torch.zeros_like(x)
    ex = layer.experts
    for e in range(6):
        gate, tokens = probs[:, e].topk(capacity)
        h = torch.nn.functional.silu(x[tokens] @ ex.w_gate[e]) * (x[tokens] @ ex.w_up[e])
        expected[tokens] += gate[:, None] * (h @ ex.w_down[e])
    torch.testing.assert_close(y, expected, rtol=1e-5, atol=1e-5)


def test_hash_router_ignores_the_router_and_noisy_is_softmax_in_eval():
    torch.manual_seed(7)
    layer = MoELayer(tiny(router="hash")).eval()
    ids = torch.tensor([3, 5, 3, 9, 5])
    _, routing = layer(torch.randn(5, 32), ids)
    assert torch.equal(routing.topk_idx[0], routing.topk_idx[2])
    assert torch.equal(routing.topk_idx[1], routing.topk_idx[4])
    with pytest.raises(ValueError, match="token ids"):
        layer(torch.randn(5, 32))
    noisy = MoELayer(tiny(router="noisy"))
    plain = MoELayer(tiny())
    plain.load_state_dict(noisy.state_dict(), strict=False)
    x = torch.randn(10, 32)
    torch.testing.assert_close(noisy.eval()(x)[0], plain.eval()(x)[0])
    with torch.no_grad():
        noisy.noise.weight.fill_(0.5)
    noisy.train()
    assert not torch.allclose(noisy(x)[1].probs, noisy.eval()(x)[1].probs)


def test_shared_experts_add_a_dense_mlp():
    torch.manual_seed(8)
    layer = MoELayer(tiny(n_shared=1)).eval()
    x = torch.randn(12, 32)
    y, _ = layer(x)
    routed = MoELayer(tiny()).eval()
    routed.load_state_dict({k: v for k, v in layer.state_dict().items() if "shared" not in k})
    sh = layer.shared
    dense = (torch.nn.functional.silu(x @ sh.w_gate[0]) * (x @ sh.w_up[0])) @ sh.w_down[0]
    torch.testing.assert_close(y, routed(x)[0] + dense, rtol=1e-5, atol=1e-5)


def deepseek_v3_moe_with_our_weights(layer: MoELayer):
    """transformers' DeepseekV3MoE (sigmoid router with the selection bias, routed experts, shared experts summed
    in unweighted) holding our layer's weights. Its shared experts are one MLP of width n_shared · F: the same as
    our n_shared MLPs of width F side by side (hidden units concatenated)."""
    from transformers.models.deepseek_v3.modeling_deepseek_v3 import DeepseekV3MoE

    c = layer.config
    config = DeepseekV3Config(
        hidden_size=c.d_model,
        n_routed_experts=c.n_experts,
        num_experts_per_tok=c.top_k,
        n_shared_experts=c.n_shared,
        moe_intermediate_size=c.d_expert,
        n_group=1,
        topk_group=1,
        norm_topk_prob=True,
        routed_scaling_factor=1.0,
        hidden_act="silu",
    )
    block = DeepseekV3MoE(config)
    with torch.no_grad():
        block.gate.weight.copy_(layer.gate.weight)
        block.gate.e_score_correction_bias.copy_(layer.bias)
        ex, sh = layer.experts, layer.shared
        block.experts.gate_up_proj.copy_(torch.cat([ex.w_gate, ex.w_up], dim=-1).transpose(1, 2))
        block.experts.down_proj.copy_(ex.w_down.transpose(1, 2))
        side_by_side = [torch.cat(list(w), dim=-1) for w in (sh.w_gate, sh.w_up)]  # (D, n_shared·F)
        block.shared_experts.gate_proj.weight.copy_(side_by_side[0].t())
        block.shared_experts.up_proj.weight.copy_(side_by_side[1].t())
        block.shared_experts.down_proj.weight.copy_(torch.cat(list(sh.w_down), dim=0).t())  # (D, n_shared·F)
    return block


def test_fine_grained_and_shared_experts_equal_deepseek_v3_moe():
    """DeepSeekMoE's layout (many narrow experts, a larger k, shared experts) on DeepSeek-V3's router: the output
    and the gradients of transformers' DeepseekV3MoE, with a bias that changes the selection."""
    torch.manual_seed(9)
    layer = MoELayer(tiny(n_experts=16, top_k=4, n_shared=2, d_expert=12, router="sigmoid")).train()
    layer.bias.copy_(torch.linspace(-0.2, 0.2, 16))
    block = deepseek_v3_moe_with_our_weights(layer).train()
    x = torch.randn(3, 10, 32)
    ours, routing = layer(x)
    theirs = block(x.clone())
    torch.testing.assert_close(ours, theirs, rtol=1e-5, atol=1e-5)
    assert choices_changed_by_bias(routing.probs, routing.topk_idx).any()  # the bias mattered here
    ours.square().sum().backward()
    theirs.square().sum().backward()
    torch.testing.assert_close(layer.gate.weight.grad, block.gate.weight.grad, rtol=1e-4, atol=1e-5)
    grad_shared = torch.cat(list(layer.shared.w_down.grad), dim=0).t()
    torch.testing.assert_close(grad_shared, block.shared_experts.down_proj.weight.grad, rtol=1e-4, atol=1e-5)
    grad_routed = layer.experts.w_down.grad.transpose(1, 2)
    torch.testing.assert_close(grad_routed, block.experts.down_proj.grad, rtol=1e-4, atol=1e-5)


def test_fine_grained_split_keeps_parameters_and_compute_and_multiplies_combinations():
    """DeepSeekMoE's split (m = 2, one of the 4 slots made shared): 8 experts of 128, top-2 against 15 routed of
    64, top-3, plus 1 shared: the same expert weights stored and used per token, 455 combinations against 28."""
    from models.moe.cost import expert_budget

    coarse = expert_budget(8, 2, 0, 64, 128)
    fine = expert_budget(15, 3, 1, 64, 64)
    assert (fine["stored"], fine["active"]) == (coarse["stored"], coarse["active"]) == (196_608, 49_152)
    assert (coarse["combinations"], fine["combinations"]) == (28, 455)
    model = TinyMoELM(tiny(n_experts=15, top_k=3, n_shared=1, d_model=64, d_expert=64, vocab_size=20))
    counted = sum(p.numel() for n, p in model.named_parameters() if ".experts." in n or ".shared." in n)
    assert counted == model.config.n_layers * fine["stored"]


@pytest.mark.parametrize(
    "bad, message",
    [
        (dict(top_k=9), "top-k"),
        (dict(n_experts=1, top_k=1), "one expert"),
        (dict(capacity_factor=0.0), "capacity factor"),
        (dict(bias_update_rate=-0.1), "update rate"),
        (dict(router="magic"), "Unknown router"),
    ],
)
def test_config_rejects_impossible_settings(bad, message):
    with pytest.raises(ValueError, match=message):
        MoEConfig(**bad)


@pytest.mark.parametrize("text", ["", "a", "aaaa" * 100, "ab"])
def test_trainer_rejects_texts_too_short(text):
    with pytest.raises(ValueError):
        MoETrainer(text, tiny(context=16))


def test_trainer_learns_and_records_loads():
    torch.manual_seed(0)
    trainer = MoETrainer(TEXT, tiny(context=16, batch_size=8, n_layers=1), seed=0)
    first = trainer.train_steps(1)
    last = trainer.train_steps(30)
    assert last["loss"] < first["loss"] - 0.5
    assert trainer.loads.shape == (31, 1, 6)
    torch.testing.assert_close(trainer.loads.sum(-1), torch.ones(31, 1))
    kept, routings = trainer.route("the cat!")
    assert kept == "the cat" and routings[0].topk_idx.shape == (7, 2)


def test_page_measures_probe_and_bias_count_agree_with_plain_computations():
    trainer = MoETrainer(TEXT, tiny(context=16, batch_size=8, n_layers=2), seed=0)
    before = [p.clone() for p in trainer.model.parameters()]
    loads = trainer.probe_loads(batches=2)  # step 0: routes batches, trains nothing, keeps the training batches
    assert loads.shape == (2, 6) and torch.allclose(loads.sum(-1), torch.ones(2))
    assert all(torch.equal(a, b) for a, b in zip(before, trainer.model.parameters()))
    assert trainer.model.training and trainer.generator.initial_seed() == 0
    fresh = MoETrainer(TEXT, tiny(context=16, batch_size=8, n_layers=2), seed=0)
    assert torch.equal(trainer.batch()[0], fresh.batch()[0])

    trainer.train_steps(12)
    m = trainer.recent_measures(window=10)
    recent = trainer.loads[-10:].mean(0)  # (layers, E)
    cv = recent.std(-1, unbiased=False) / recent.mean(-1)
    assert m["load_cv"] == pytest.approx(float(cv.max()))
    assert m["max_share"] == pytest.approx(float(recent.max()))
    assert m["loss"] == pytest.approx(sum(trainer.losses[-10:]) / 10)

    trainer.model.eval()  # a shared model stays in eval mode after routing
    trainer.route("the cat")
    assert not trainer.model.training

    probs = torch.tensor([[0.5, 0.4, 0.1], [0.2, 0.3, 0.5]])
    chosen = torch.tensor([[1, 0], [0, 2]])  # token 0: the same set in another order; token 1: a bias moved it
    assert choices_changed_by_bias(probs, chosen).tolist() == [False, True]


def test_comparison_runs_three_balancings_with_one_seed():
    cmp = BalanceComparison(TEXT, tiny(context=16, batch_size=8, n_layers=1), seed=0)
    metrics = cmp.train_steps(2)
    assert {"none.loss", "aux.load_cv", "bias.max_share"} <= set(metrics)
    a, b = cmp.trainers["none"].model, cmp.trainers["aux"].model
    # same seed: same start, same batches; only the balancing differs
    assert cmp.trainers["none"].loads[0].equal(cmp.trainers["aux"].loads[0])
    assert a.tok.weight.shape == b.tok.weight.shape


@pytest.mark.slow
def test_collapse_without_balancing_and_its_fixes():
    """The lesson's claim on a small text: no balancing collapses, the aux loss and the bias spread the load."""
    from models.corpora import load_corpus_text

    text = load_corpus_text("wiki")[:100_000]
    cmp = BalanceComparison(text, MoEConfig(), seed=0)
    cmp.train_steps(60)
    cv = {b: float(t.loads[-10:].mean(0).std(-1, unbiased=False).max() * 8) for b, t in cmp.trainers.items()}
    assert cv["none"] > 0.8
    assert cv["aux"] < 0.6 * cv["none"] and cv["bias"] < 0.6 * cv["none"]


def test_real_configs_are_transformers_defaults_and_match_published_sizes():
    from transformers import Qwen2MoeConfig

    from models.moe.cost import REAL_CONFIGS, moe_cost

    mix, ds, qwen = MixtralConfig(), DeepseekV3Config(), Qwen2MoeConfig()
    a = REAL_CONFIGS["Mixtral-8x7B"]
    assert (a.hidden, a.layers, a.vocab, a.n_experts, a.top_k, a.expert_hidden, a.kv_heads) == (
        mix.hidden_size,
        mix.num_hidden_layers,
        mix.vocab_size,
        mix.num_local_experts,
        mix.num_experts_per_tok,
        mix.intermediate_size,
        mix.num_key_value_heads,
    )
    a = REAL_CONFIGS["DeepSeek-V3"]
    assert (a.hidden, a.layers, a.vocab, a.n_experts, a.top_k, a.expert_hidden) == (
        ds.hidden_size,
        ds.num_hidden_layers,
        ds.vocab_size,
        ds.n_routed_experts,
        ds.num_experts_per_tok,
        ds.moe_intermediate_size,
    )
    assert (a.dense_layers, a.dense_hidden, a.mla) == (
        ds.first_k_dense_replace,
        ds.intermediate_size,
        (ds.q_lora_rank, ds.kv_lora_rank, ds.qk_nope_head_dim, ds.qk_rope_head_dim, ds.v_head_dim),
    )
    a = REAL_CONFIGS["Qwen1.5-MoE-A2.7B"]
    assert (a.hidden, a.layers, a.vocab, a.n_experts, a.top_k, a.expert_hidden, a.shared_hidden) == (
        qwen.hidden_size,
        qwen.num_hidden_layers,
        qwen.vocab_size,
        qwen.num_experts,
        qwen.num_experts_per_tok,
        qwen.moe_intermediate_size,
        qwen.shared_expert_intermediate_size,
    )
    # the published headline sizes (Mixtral paper, DeepSeek-V3 report, Qwen1.5-MoE model card), within 2 %
    for name, total, active in [
        ("Mixtral-8x7B", 46.7e9, 12.9e9),
        ("DeepSeek-V3", 671e9, 37e9),
        ("Qwen1.5-MoE-A2.7B", 14.3e9, 2.7e9),
    ]:
        cost = moe_cost(REAL_CONFIGS[name])
        assert cost["total_params"] == pytest.approx(total, rel=0.02)
        assert cost["active_params"] == pytest.approx(active, rel=0.02)


def test_tiny_model_cost_counts_its_parameters():
    from models.moe.cost import tiny_model_cost

    model = TinyMoELM(tiny(n_layers=2, vocab_size=20))
    cost = tiny_model_cost(model)
    assert cost["total_params"] == sum(p.numel() for p in model.parameters())
    expert = 3 * 32 * 48
    assert cost["total_params"] - cost["active_params"] == 2 * (6 - 2) * expert
