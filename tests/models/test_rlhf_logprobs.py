"""models/rlhf/language_model.py `completion_logprobs`: the fast path (only the completion positions through the LM head, the
entropy without gradient) against the path it replaced (every position's logits, sliced afterwards), and against
TRL 1.16's `selective_log_softmax` on the same logits, on a tiny LoRA-adapted Llama with left-padded prompts:
same log-probabilities, same entropy, same gradients in the adapters."""

import pytest
import torch

from models.rlhf.language_model import add_lora, completion_logprobs


def full_logits_path(model, sequences, attention_mask, prompt_len, temperature):
    """The earlier `completion_logprobs`, line for line: logits at every position, then the slice."""
    logits = model(input_ids=sequences, attention_mask=attention_mask).logits  # (B, T, V)
    logits = logits[:, prompt_len - 1 : -1].float() / temperature  # (B, T_new, V)
    logp_all = logits.log_softmax(-1)
    tokens = sequences[:, prompt_len:]
    logp = logp_all.gather(-1, tokens[..., None]).squeeze(-1)
    entropy = -(logp_all.exp() * logp_all).sum(-1)
    return logp, entropy, logits


@pytest.fixture
def policy_and_batch(tiny_lm):
    model, tokenizer = tiny_lm
    policy = add_lora(model, rank=4)
    torch.manual_seed(0)
    with torch.no_grad():  # move the adapters off the identity, so they take part in the values and gradients
        for p in policy.parameters():
            if p.requires_grad:
                p.normal_(0, 0.5)
    g = torch.Generator().manual_seed(1)
    batch, prompt_len, new_tokens = 6, 5, 7
    sequences = torch.randint(3, model.config.vocab_size, (batch, prompt_len + new_tokens), generator=g)
    attention_mask = torch.ones_like(sequences)
    for row, pad in enumerate([0, 1, 3, 0, 2, 4]):  # left padding, as the trainer's prompts have
        sequences[row, :pad] = tokenizer.pad_token_id
        attention_mask[row, :pad] = 0
    return policy, sequences, attention_mask, prompt_len


def adapter_grads(policy, logp, weights):
    policy.zero_grad(set_to_none=True)
    (logp * weights).sum().backward()
    return {n: p.grad.clone() for n, p in policy.named_parameters() if p.requires_grad}


@pytest.mark.parametrize("temperature", [1.0, 0.7])
def test_completion_logprobs_equal_the_full_logits_path(policy_and_batch, temperature):
    from trl.trainer.utils import selective_log_softmax

    policy, sequences, attention_mask, prompt_len = policy_and_batch
    weights = torch.randn(sequences.shape[0], sequences.shape[1] - prompt_len)

    logp, entropy = completion_logprobs(policy, sequences, attention_mask, prompt_len, temperature)
    grads = adapter_grads(policy, logp, weights)
    logp_full, entropy_full, logits_full = full_logits_path(policy, sequences, attention_mask, prompt_len, temperature)
    grads_full = adapter_grads(policy, logp_full, weights)

    assert logp.shape == (6, 7) and logp.std() > 0.1
    assert torch.allclose(logp, logp_full, atol=1e-5)
    assert torch.allclose(entropy, entropy_full, atol=1e-5)
    assert not entropy.requires_grad  # a diagnostic: no graph kept for it
    trl_logp = selective_log_softmax(logits_full.detach(), sequences[:, prompt_len:])
    assert torch.allclose(logp.detach(), trl_logp, atol=1e-5)
    assert grads.keys() == grads_full.keys() and grads
    for name, grad in grads.items():
        assert grad.abs().max() > 0, name
        assert torch.allclose(grad, grads_full[name], rtol=1e-4, atol=1e-6), name


def test_completion_logprobs_without_entropy(policy_and_batch):
    policy, sequences, attention_mask, prompt_len = policy_and_batch
    with torch.no_grad():
        logp, entropy = completion_logprobs(policy, sequences, attention_mask, prompt_len, 1.0, with_entropy=False)
        logp_full, _, _ = full_logits_path(policy, sequences, attention_mask, prompt_len, 1.0)
    assert entropy is None
    assert torch.allclose(logp, logp_full, atol=1e-5)
