"""Temperature / top-k / top-p filtering against transformers' logits warpers, and next-token prediction."""

import pytest
import torch
from transformers.generation.logits_process import (
    TemperatureLogitsWarper,
    TopKLogitsWarper,
    TopPLogitsWarper,
)

from models.next_token.sampling import (
    SamplingConfig,
    encode_prompt,
    filter_logits,
    next_token,
    sample_continuation,
    sample_token,
)


@pytest.mark.parametrize(
    "temperature,top_k,top_p",
    [(1.0, 0, 1.0), (0.7, 10, 0.9), (1.3, 0, 0.5), (1.0, 5, 1.0), (0.3, 0, 0.95), (2.0, 40, 0.2)],
)
def test_filters_equal_transformers_warpers(temperature, top_k, top_p):
    torch.manual_seed(temperature * 100 + top_k)
    logits = torch.randn(500) * 4
    ours = filter_logits(logits, SamplingConfig(temperature, top_k, top_p))
    scores = TemperatureLogitsWarper(temperature)(None, logits[None].clone())
    if top_k:
        scores = TopKLogitsWarper(top_k)(None, scores)
    if top_p < 1:
        scores = TopPLogitsWarper(top_p)(None, scores)
    reference = scores.softmax(-1)[0]
    torch.testing.assert_close(ours.final, reference, atol=1e-7, rtol=0)
    assert torch.equal(ours.kept_top_p, torch.isfinite(scores[0]))
    assert abs(ours.final.sum().item() - 1) < 1e-5


def test_bad_sampling_settings():
    for settings in [dict(temperature=0), dict(top_k=-1), dict(top_p=0)]:
        with pytest.raises(ValueError):  # the config validates itself, once
            filter_logits(torch.zeros(4), SamplingConfig(**settings))


def test_sampling_is_reproducible_and_respects_the_filter():
    dist = filter_logits(torch.tensor([5.0, 4.0, 0.0, -1.0]), SamplingConfig(top_k=2))
    draws = [sample_token(dist.final, seed=7, step=s) for s in range(50)]
    assert draws == [sample_token(dist.final, seed=7, step=s) for s in range(50)]
    assert set(draws) <= {0, 1}


def test_next_token_on_smollm2(smollm2):
    model, tokenizer = smollm2
    ids = encode_prompt(tokenizer, "The capital of France is")
    result = next_token(model, tokenizer, ids, max_context=8192)
    assert tokenizer.decode([int(result.logits.argmax())]).strip() == "Paris"
    assert "".join(result.pieces) == "The capital of France is"
    chat_ids = encode_prompt(tokenizer, "Hi", chat=True)
    assert len(chat_ids) > len(encode_prompt(tokenizer, "Hi"))
    with pytest.raises(ValueError, match="empty"):
        encode_prompt(tokenizer, "  ")
    with pytest.raises(ValueError, match="reads at most"):
        next_token(model, tokenizer, ids * 10, max_context=20)


def test_sampled_continuation_matches_a_full_recompute_and_is_reproducible(smollm2):
    """The KV-cached loop draws the same tokens as recomputing the whole sequence each step."""
    model, tokenizer = smollm2
    ids = encode_prompt(tokenizer, "Once upon a time")
    config = SamplingConfig(temperature=0.8, top_k=20, top_p=0.9, seed=3)
    cached = sample_continuation(model, ids, config, 6, max_context=8192)
    recomputed, seq = [], list(ids)
    for step in range(6):
        dist = filter_logits(next_token(model, tokenizer, seq, 8192).logits, config)
        token = sample_token(dist.final, config.seed, step)
        recomputed.append(token)
        seq.append(token)
    assert [t.token_id for t in cached] == recomputed
    first, rest = (
        cached[:2],
        sample_continuation(model, ids + [t.token_id for t in cached[:2]], config, 4, 8192, first_step=2),
    )
    assert [t.token_id for t in first + rest] == recomputed  # 2 then 4 equals 6 at once
    assert all(0 < t.p_final <= 1 and t.n_candidates <= 20 for t in cached)
