"""Long context's model code against references on the same inputs: transformers' RoPE initialisation, plain
attention written here (RoPE, ALiBi), the ALiBi paper's slopes, torch's SDPA with the same mask, Linformer's
formula, and reach counted by hand."""

import math

import numpy as np
import pytest
import torch
from torch.nn import functional as F

from models.long_context import LengthTrainer, PositionConfig, attention_pattern, rope_inv_freq
from models.long_context.extrapolation import CharData, LengthLM, check_eval_length
from models.long_context.needle import NeedleTrainer, needle_batch
from models.long_context.patterns import (
    PATTERNS,
    block_sparse_attention,
    key_indices,
    layers_to_reach_start,
    linformer_attention,
    linformer_projections,
    masked_attention,
    query_blocks,
    reach_by_layer,
    sparse_attention,
    xl_visible,
)
from models.long_context.rope_scaling import apply_rope, rope_cos_sin

HEAD_DIM, BASE = 64, 10000.0
SCALINGS = [
    {"rope_type": "default"},
    {"rope_type": "linear", "factor": 4.0},
    {"rope_type": "dynamic", "factor": 2.0, "original_max_position_embeddings": 2048},
    {"rope_type": "yarn", "factor": 4.0, "original_max_position_embeddings": 2048},
    {"rope_type": "yarn", "factor": 8.0, "original_max_position_embeddings": 4096, "beta_fast": 16, "beta_slow": 2},
    {"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
     "original_max_position_embeddings": 8192},
]  # fmt: skip


def transformers_rope(scaling: dict, seq_len: int | None):
    """transformers' own (inv_freq, attention scale) for the same settings (5.x: `rope_parameters`)."""
    from transformers import LlamaConfig
    from transformers.modeling_rope_utils import ROPE_INIT_FUNCTIONS

    params = {"rope_theta": BASE, **scaling}
    config = LlamaConfig(hidden_size=HEAD_DIM * 2, num_attention_heads=2, head_dim=HEAD_DIM,
                         max_position_embeddings=scaling.get("original_max_position_embeddings", 2048),
                         rope_parameters=params)  # fmt: skip
    if scaling["rope_type"] == "default":
        from transformers.models.llama.modeling_llama import LlamaRotaryEmbedding

        embedding = LlamaRotaryEmbedding(config)
        return embedding.inv_freq, float(embedding.attention_scaling)
    kwargs = {"seq_len": seq_len} if seq_len is not None else {}
    inv_freq, scale = ROPE_INIT_FUNCTIONS[scaling["rope_type"]](config, "cpu", **kwargs)
    return inv_freq, float(scale)


@pytest.mark.parametrize("scaling", SCALINGS, ids=lambda s: s["rope_type"] + str(s.get("factor", "")))
@pytest.mark.parametrize("seq_len", [None, 8192])
def test_rope_inv_freq_equals_transformers(scaling, seq_len):
    ours, ours_scale = rope_inv_freq(HEAD_DIM, BASE, scaling, seq_len=seq_len)
    theirs, their_scale = transformers_rope(scaling, seq_len)
    torch.testing.assert_close(ours, theirs.float(), rtol=1e-6, atol=0)
    assert ours_scale == pytest.approx(their_scale, rel=1e-9)
    if scaling["rope_type"] != "default" and (scaling["rope_type"] != "dynamic" or seq_len):  # dynamic: only past L
        assert not torch.allclose(ours, rope_inv_freq(HEAD_DIM, BASE)[0]), "the scaling changed something"


def test_rope_scaling_rejects_a_factor_below_one_and_unknown_types():
    with pytest.raises(ValueError, match="at least 1"):
        rope_inv_freq(64, scaling={"rope_type": "linear", "factor": 0.5})
    with pytest.raises(ValueError, match="Unknown RoPE scaling"):
        rope_inv_freq(64, scaling={"rope_type": "longrope2"})
    with pytest.raises(ValueError, match="original_max_position_embeddings"):
        rope_inv_freq(64, scaling={"rope_type": "yarn", "factor": 2.0})


def plain_attention(q, k, v, bias):
    """softmax(q k^T / sqrt(d) + bias) v, one query at a time, no masking tricks."""
    T, D = q.shape[-2], q.shape[-1]
    out = torch.zeros_like(q)
    for i in range(T):
        scores = (k[..., : i + 1, :] @ q[..., i, :, None])[..., 0] / math.sqrt(D) + bias[..., i, : i + 1]
        out[..., i, :] = (torch.softmax(scores, -1)[..., None, :] @ v[..., : i + 1, :])[..., 0, :]
    return out


def rope_by_pairs(x, positions, inv_freq):
    """RoPE as 2-d rotations: pair i = (x_i, x_{i+d/2}) turned by position * theta_i."""
    half = x.shape[-1] // 2
    angle = positions[:, None].float() * inv_freq  # (T, d/2)
    a, b = x[..., :half], x[..., half:]
    return torch.cat((a * angle.cos() - b * angle.sin(), a * angle.sin() + b * angle.cos()), -1)


@pytest.mark.parametrize("positional", ["rope", "alibi"])
def test_the_models_attention_equals_a_plain_implementation(positional):
    config = PositionConfig(positional=positional, train_len=16, d_model=32, n_heads=4, n_layers=1)
    torch.manual_seed(0)
    model = LengthLM(config, vocab_size=11).eval()
    idx = torch.randint(11, (2, 24))  # past train_len
    block, T = model.blocks[0], idx.shape[1]
    x = model.token_embedding(idx)
    q, k, v = (t.view(2, T, 4, 8).transpose(1, 2) for t in block.qkv(block.ln_attn(x)).split(32, -1))
    positions = torch.arange(T)
    if positional == "rope":
        inv_freq = rope_inv_freq(8, config.rope_base)[0]
        q, k = rope_by_pairs(q, positions, inv_freq), rope_by_pairs(k, positions, inv_freq)
        bias = torch.zeros(T, T)
    else:
        slopes = torch.tensor([2 ** (-8 * (h + 1) / 4) for h in range(4)])  # the paper's, for 4 heads
        bias = -slopes[:, None, None] * (positions[:, None] - positions[None, :]).float()
    attended = plain_attention(q, k, v, bias).transpose(1, 2).reshape(2, T, 32)
    h = x + block.proj(attended)
    expected = model.lm_head(model.ln_final(h + block.mlp(block.ln_mlp(h))))
    torch.testing.assert_close(model(idx), expected, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("n_heads", [8, 12])
def test_alibi_slopes_are_the_papers(n_heads):
    from models.attention.positional import alibi_slopes

    if n_heads == 8:
        expected = [1 / 2 ** (i + 1) for i in range(8)]  # 1/2 ... 1/256
    else:  # 8 heads' slopes, then every other slope of 16 heads (the paper's code, and BLOOM's)
        expected = [1 / 2 ** (i + 1) for i in range(8)] + [2 ** -(0.5 + i) for i in range(4)]
    torch.testing.assert_close(alibi_slopes(n_heads), torch.tensor(expected), rtol=1e-6, atol=0)


def test_rope_helpers_match_the_pairwise_rotation():
    inv_freq, _ = rope_inv_freq(16, 100.0)
    x = torch.randn(1, 2, 9, 16)
    cos, sin = rope_cos_sin(torch.arange(9), inv_freq)
    torch.testing.assert_close(apply_rope(x, cos, sin), rope_by_pairs(x, torch.arange(9), inv_freq))


@pytest.mark.parametrize("kind", PATTERNS)
def test_sparse_attention_equals_sdpa_with_the_same_mask(kind):
    mask = attention_pattern(kind, 96, window=8, stride=8, global_tokens=[0, 40], segment=16, random_keys=3)
    q, k, v = torch.randn(3, 2, 3, 96, 16, generator=torch.Generator().manual_seed(1)).unbind(0)
    reference = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
    torch.testing.assert_close(sparse_attention(q, k, v, *key_indices(mask)), reference, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(masked_attention(q, k, v, mask), reference, rtol=1e-5, atol=1e-5)
    for block in (16, 40):  # 40: the last block is partial
        blocked = block_sparse_attention(q, k, v, query_blocks(mask, block))
        torch.testing.assert_close(blocked, reference, rtol=1e-5, atol=1e-5)
    if kind not in ("full", "causal"):
        assert not torch.allclose(reference, F.scaled_dot_product_attention(q, k, v, is_causal=True), atol=1e-3)


def test_patterns_keep_what_their_papers_say():
    T = 64
    window = attention_pattern("window", T, window=4)
    assert window.sum(-1).max() == 4 and window[10, 7] and not window[10, 6] and not window[10, 11]
    longformer = attention_pattern("longformer", T, window=4, global_tokens=[0], causal=False)
    assert longformer[:, 0].all() and longformer[0, :].all() and longformer[30, 32] and not longformer[30, 33]
    strided = attention_pattern("strided", T, stride=8)
    assert strided[63, 56] and strided[63, 47] and strided[63, 7] and not strided[63, 50]
    with pytest.raises(ValueError, match="between 1 and the input"):
        attention_pattern("window", 16, window=32)


def test_reach_is_layers_times_window_and_layers_times_segment():
    window = attention_pattern("window", 256, window=16)
    assert reach_by_layer(window, 3) == [15, 30, 45]  # (w - 1) per layer
    assert layers_to_reach_start(window) == 17 and layers_to_reach_start(attention_pattern("strided", 256)) == 2
    first_of_last_segment = 224
    for layers in (1, 2, 4):
        seen = xl_visible(256, 32, layers)[first_of_last_segment]
        assert first_of_last_segment - int(seen.nonzero().min()) == layers * 32
    assert xl_visible(256, 32, 4, memory=False)[first_of_last_segment].nonzero().min() == first_of_last_segment


def test_linformer_equals_its_formula_and_full_rank_identity_is_exact():
    q, k, v = torch.randn(3, 1, 2, 32, 8, generator=torch.Generator().manual_seed(0)).unbind(0)
    E, F_ = linformer_projections(8, 32, seed=1)
    expected = torch.softmax(q @ (E @ k).transpose(-1, -2) / math.sqrt(8), -1) @ (F_ @ v)
    torch.testing.assert_close(linformer_attention(q, k, v, E, F_), expected)
    eye = torch.eye(32)
    full = F.scaled_dot_product_attention(q, k, v)
    torch.testing.assert_close(linformer_attention(q, k, v, eye, eye), full, rtol=1e-5, atol=1e-6)


TEXT = "the quick brown fox jumps over the lazy dog. " * 200


def test_length_trainer_learns_and_reads_any_length():
    trainer = LengthTrainer(TEXT, PositionConfig(positional="learned", train_len=16, d_model=16, n_heads=2), seed=0)
    before = trainer.loss_by_length([16])[16]
    trainer.train_steps(30)
    losses = trainer.loss_by_length([16, 64])
    assert losses[16] < before - 0.5 and set(losses) == {16, 64}
    assert trainer.loss_by_position(64).shape == (64,)


def test_training_is_deterministic_for_a_seed():
    config = PositionConfig(positional="rope", train_len=16, d_model=16, n_heads=2)
    a, b = LengthTrainer(TEXT, config, seed=3), LengthTrainer(TEXT, config, seed=3)
    assert a.train_steps(3) == b.train_steps(3)


def test_needle_batches_plant_one_digit_and_ask_for_it():
    tokens, answers = needle_batch(20, torch.tensor([0, 9, 18]), torch.Generator().manual_seed(0))
    assert (tokens[:, -1] == 26).all() and ((tokens >= 16) & (tokens < 26)).sum(1).tolist() == [1, 1, 1]
    assert tokens[torch.arange(3), torch.tensor([0, 9, 18])].tolist() == answers.tolist()
    trainer = NeedleTrainer(PositionConfig(positional="none", train_len=16, d_model=16, n_heads=2))
    trainer.train_steps(2)
    assert 0 <= trainer.accuracy(32, 5, n=8) <= 1


def test_bad_settings_say_what_to_do():
    with pytest.raises(ValueError, match="position scheme must be one of"):
        PositionConfig(positional="xpos")
    with pytest.raises(ValueError, match="divisible"):
        PositionConfig(d_model=30, n_heads=4)
    with pytest.raises(ValueError, match="learning rate"):
        PositionConfig(lr=0)
    with pytest.raises(ValueError, match="evaluates up to 4,096"):
        check_eval_length(100_000)
    with pytest.raises(ValueError, match="at least 1,000"):
        CharData("too short")


# --- SmolLM2's architecture: our RoPE scaling and our sliding window against transformers' own forward ---


@pytest.fixture(scope="module")
def smollm2_random():
    from models.registry import random_smollm2

    return random_smollm2(seed=0)


def twin_with(model, config_class, **settings):
    """A transformers model of `config_class` with SmolLM2's shapes, `settings` and `model`'s very weights."""
    from models.registry import SMOLLM2_ARCHITECTURE

    architecture = dict(SMOLLM2_ARCHITECTURE)
    theta = architecture.pop("rope_theta")
    params = {"rope_theta": theta, **settings.pop("rope", {})}
    architecture.update(settings)
    config = config_class(**architecture, head_dim=64, rope_parameters=params, attn_implementation="eager")
    with torch.device("meta"):
        twin = __import__("transformers").AutoModelForCausalLM.from_config(config)
    twin.load_state_dict(model.state_dict(), assign=True)
    twin.model.rotary_emb = type(twin.model.rotary_emb)(config)  # its buffers are not in the state dict
    return twin.eval()


SMOL_SCALINGS = [
    {"rope_type": "linear", "factor": 4.0},
    {"rope_type": "dynamic", "factor": 2.0, "original_max_position_embeddings": 16},
    {"rope_type": "yarn", "factor": 4.0, "original_max_position_embeddings": 16},
]


@pytest.mark.parametrize("scaling", SMOL_SCALINGS, ids=lambda s: s["rope_type"])
def test_our_scaled_rope_in_smollm2_equals_transformers_scaled_config(smollm2_random, scaling):
    from transformers import LlamaConfig

    from models.long_context.smollm2_scaling import logits_with_rope

    ids = torch.randint(49152, (1, 40), generator=torch.Generator().manual_seed(0))  # past 16: dynamic stretches
    rope = {
        k: v for k, v in scaling.items() if scaling["rope_type"] != "dynamic" or k != "original_max_position_embeddings"
    }
    # transformers' dynamic NTK stretches past max_position_embeddings (it reads no original_max_position_embeddings)
    longest = scaling.get("original_max_position_embeddings", 8192)
    theirs = twin_with(smollm2_random, LlamaConfig, rope=rope, max_position_embeddings=longest)(ids).logits
    ours = logits_with_rope(smollm2_random, ids, scaling)
    torch.testing.assert_close(ours, theirs, rtol=1e-4, atol=1e-4)
    unscaled = smollm2_random(ids).logits
    torch.testing.assert_close(logits_with_rope(smollm2_random, ids, None), unscaled, rtol=1e-4, atol=1e-4)
    assert (ours - unscaled).abs().max() > 1e-2, "the scaling changed the logits"


def test_the_sdpa_twin_shares_the_weights_and_gives_the_same_losses(smollm2_random):
    from models.long_context.smollm2_scaling import loss_by_position, sdpa_twin

    twin = sdpa_twin(smollm2_random)
    assert (
        twin.model.layers[3].mlp.up_proj.weight.data_ptr()
        == smollm2_random.model.layers[3].mlp.up_proj.weight.data_ptr()
    )
    ids = torch.randint(49152, (2, 24), generator=torch.Generator().manual_seed(1))
    expected = torch.nn.functional.cross_entropy(
        smollm2_random(ids).logits[:, :-1].transpose(1, 2), ids[:, 1:], reduction="none"
    ).mean(0)
    scaling = {"rope_type": "yarn", "factor": 2.0, "original_max_position_embeddings": 8}
    np_close = lambda a, b: torch.testing.assert_close(torch.as_tensor(a), b, rtol=1e-4, atol=1e-4)  # noqa: E731
    np_close(loss_by_position(twin, ids, None), expected)
    np_close(loss_by_position(twin, ids, scaling), torch.as_tensor(loss_by_position(smollm2_random, ids, scaling)))


def test_a_sliding_window_mask_on_smollm2_equals_transformers_sliding_window_forward(smollm2_random):
    from transformers import MistralConfig

    from models.long_context.smollm2_scaling import additive_mask, logits_with_rope

    T, window = 40, 8
    ids = torch.randint(49152, (1, T), generator=torch.Generator().manual_seed(2))
    reference = twin_with(smollm2_random, MistralConfig, sliding_window=window)(ids).logits  # its own window mask
    mask = additive_mask(attention_pattern("window", T, window=window))  # (1, 1, T, T)
    ours = smollm2_random(ids, attention_mask=mask).logits  # a 4-D mask goes to the layers as it is
    torch.testing.assert_close(ours, reference, rtol=1e-4, atol=1e-4)
    torch.testing.assert_close(logits_with_rope(smollm2_random, ids, None, mask), reference, rtol=1e-4, atol=1e-4)
    full = smollm2_random(ids).logits
    assert (full[0, window:] - reference[0, window:]).abs().max() > 1e-2, "the window changed what tokens past it see"
    torch.testing.assert_close(full[0, :window], reference[0, :window], rtol=1e-4, atol=1e-4)  # within the window


def test_smollm2_scaling_settings_say_what_to_do():
    from models.long_context.smollm2_scaling import SmolScalingConfig, bucketed, rope_settings

    with pytest.raises(ValueError, match="at least 1"):
        SmolScalingConfig(factor=0.5)
    with pytest.raises(ValueError, match="64 to 4,096"):
        SmolScalingConfig(length=100_000)
    with pytest.raises(ValueError, match="no rotary position embedding"):
        rope_settings(torch.nn.Linear(2, 2))
    starts, means = bucketed(np.arange(10.0), 4)
    assert starts.tolist() == [0, 4, 8] and means.tolist() == [1.5, 5.5, 8.5]
