"""models/rlhf/actor_critic.py (actor-critic PPO on a language model) and models/rlhf/reward_model.py (the
Bradley–Terry reward model) against references on the same inputs.

References:
- CleanRL `cleanrl/ppo.py` (vwxyzjn/cleanrl): the update's loss lines (clipped surrogate, clipped value loss,
  entropy bonus, `loss = pg_loss - ent_coef * entropy_loss + v_loss * vf_coef`) and its explained variance,
  transcribed line for line;
- TRL's PPOTrainer (trl/trainer/ppo_trainer.py, v0.12-0.19; TRL 1.16, installed, has no PPOTrainer): the per-token
  rewards (-kl_coef * kl, the score added at the last token), the GAE loop over the response, `masked_whiten`,
  and the clipped value loss, transcribed; `trl.trainer.utils.selective_log_softmax` called directly;
- TRL 1.16's `RewardTrainer.compute_loss` called directly (on a stub trainer) for the Bradley–Terry loss.
"""

import copy
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from torch.nn import functional as F

from models.rlhf.actor_critic import (
    explained_variance,
    ppo_objective,
    token_advantages,
    token_rewards,
    value_loss,
)
from models.rlhf.reward_model import LinearRewardModel, bradley_terry_loss, pearson


def rollout_tensors(B=6, T=5, seed=0):
    g = torch.Generator().manual_seed(seed)
    logp_old = -torch.rand(B, T, generator=g) * 3
    logp = logp_old + torch.randn(B, T, generator=g) * 0.4
    ref_logp = logp_old + torch.randn(B, T, generator=g) * 0.3
    values_old = torch.randn(B, T, generator=g) * 0.5
    values = values_old + torch.randn(B, T, generator=g) * 0.3
    scores = torch.randn(B, generator=g)
    entropy = torch.rand(B, T, generator=g) * 3
    return logp, logp_old, ref_logp, values, values_old, scores, entropy


# ------------------------------------------------------------------------------ TRL PPOTrainer, transcribed
def masked_mean(values, mask, axis=None):
    if axis is not None:
        return (values * mask).sum(axis=axis) / mask.sum(axis=axis)
    return (values * mask).sum() / mask.sum()


def masked_var(values, mask, unbiased=True):
    mean = masked_mean(values, mask)
    centered_values = values - mean
    variance = masked_mean(centered_values**2, mask)
    if unbiased:
        mask_sum = mask.sum()
        bessel_correction = mask_sum / (mask_sum - 1)
        variance = variance * bessel_correction
    return variance


def masked_whiten(values, mask, shift_mean=True):
    mean, var = masked_mean(values, mask), masked_var(values, mask)
    whitened = (values - mean) * torch.rsqrt(var + 1e-8)
    if not shift_mean:
        whitened += mean
    return whitened


def trl_rewards_and_advantages(logprobs, ref_logprobs, scores, values, kl_coef, gamma, lam):
    """ppo_trainer.py, steps 4-6 of the rollout, every response of full length (no EOS, no padding)."""
    padding_mask = torch.zeros_like(logprobs, dtype=torch.bool)
    sequence_lengths = torch.full((logprobs.shape[0],), logprobs.shape[1] - 1)
    sequence_lengths_p1 = sequence_lengths + 1
    kl = logprobs - ref_logprobs
    non_score_reward = -kl_coef * kl
    rewards = non_score_reward.clone()
    actual_start = torch.arange(rewards.size(0), device=rewards.device)
    actual_end = torch.where(sequence_lengths_p1 < rewards.size(1), sequence_lengths_p1, sequence_lengths)
    rewards[actual_start, actual_end] += scores
    lastgaelam = 0
    advantages_reversed = []
    gen_length = logprobs.shape[1]
    for t in reversed(range(gen_length)):
        nextvalues = values[:, t + 1] if t < gen_length - 1 else 0.0
        delta = rewards[:, t] + gamma * nextvalues - values[:, t]
        lastgaelam = delta + gamma * lam * lastgaelam
        advantages_reversed.append(lastgaelam)
    advantages = torch.stack(advantages_reversed[::-1], axis=1)
    returns = advantages + values
    advantages = masked_whiten(advantages, ~padding_mask)
    advantages = torch.masked_fill(advantages, padding_mask, 0)
    return rewards, advantages, returns


def trl_value_loss(vpred, mb_values, mb_return, cliprange_value):
    """ppo_trainer.py, the value loss of the update loop (no padding)."""
    mask = torch.ones_like(vpred, dtype=torch.bool)
    vpredclipped = torch.clamp(vpred, mb_values - cliprange_value, mb_values + cliprange_value)
    vf_losses1 = torch.square(vpred - mb_return)
    vf_losses2 = torch.square(vpredclipped - mb_return)
    vf_loss_max = torch.max(vf_losses1, vf_losses2)
    vf_loss = 0.5 * masked_mean(vf_loss_max, mask)
    vf_clipfrac = masked_mean((vf_losses2 > vf_losses1).float(), mask)
    return vf_loss, vf_clipfrac


# ------------------------------------------------------------------------------ CleanRL ppo.py, transcribed
def cleanrl_loss(newlogprob, b_logprobs, mb_advantages, entropy, newvalue, b_values, b_returns, clip_coef, args):
    """cleanrl/ppo.py, the loss lines of the update loop (norm_adv off: the advantages come whitened, as TRL's;
    clip_vloss on with the value clip's own range)."""
    logratio = newlogprob - b_logprobs
    ratio = logratio.exp()
    with torch.no_grad():
        approx_kl = ((ratio - 1) - logratio).mean()
        clipfrac = ((ratio - 1.0).abs() > clip_coef).float().mean().item()
    pg_loss1 = -mb_advantages * ratio
    pg_loss2 = -mb_advantages * torch.clamp(ratio, 1 - clip_coef, 1 + clip_coef)
    pg_loss = torch.max(pg_loss1, pg_loss2).mean()
    v_loss_unclipped = (newvalue - b_returns) ** 2
    v_clipped = b_values + torch.clamp(newvalue - b_values, -args.value_clip, args.value_clip)
    v_loss_clipped = (v_clipped - b_returns) ** 2
    v_loss_max = torch.max(v_loss_unclipped, v_loss_clipped)
    v_loss = 0.5 * v_loss_max.mean()
    entropy_loss = entropy.mean()
    loss = pg_loss - args.ent_coef * entropy_loss + v_loss * args.vf_coef
    return loss, pg_loss, v_loss, approx_kl, clipfrac


def cleanrl_explained_variance(y_pred, y_true):
    var_y = y_true.var()
    return float("nan") if var_y == 0 else (1 - (y_true - y_pred).var() / var_y).item()


def test_token_rewards_and_gae_equal_trls_ppo_trainer():
    _, logp_old, ref_logp, _, values_old, scores, _ = rollout_tensors(B=8, T=7)
    for kl_coef, gamma, lam in ((0.05, 1.0, 0.95), (0.5, 0.9, 0.8), (0.0, 1.0, 1.0)):
        rewards = token_rewards(scores, logp_old, ref_logp, kl_coef)
        advantages, returns = token_advantages(rewards, values_old, gamma, lam)
        ref_rewards, ref_advantages, ref_returns = trl_rewards_and_advantages(
            logp_old, ref_logp, scores, values_old, kl_coef, gamma, lam
        )
        assert torch.allclose(rewards, ref_rewards)
        assert torch.allclose(returns, ref_returns, atol=1e-6)
        assert torch.allclose(advantages, ref_advantages, atol=1e-5)
    assert rewards[:, -1].equal(scores)  # beta = 0: the score alone, on the last token


def test_value_loss_equals_trls():
    _, _, _, values, values_old, _, _ = rollout_tensors()
    returns = values_old + torch.randn_like(values_old)
    for clip in (0.1, 0.2, 1.0):
        ours, ours_frac = value_loss(values, values_old, returns, clip)
        ref, ref_frac = trl_value_loss(values, values_old, returns, clip)
        assert torch.allclose(ours, ref) and ours_frac == pytest.approx(ref_frac.item())
    assert 0 < value_loss(values, values_old, returns, 0.1)[1] < 1  # both branches taken


@pytest.mark.parametrize("ent_coef", [0.0, 0.01])
def test_ppo_objective_equals_cleanrls_loss_and_gradients(ent_coef):
    logp, logp_old, ref_logp, values, values_old, scores, entropy = rollout_tensors()
    advantages, returns = token_advantages(token_rewards(scores, logp_old, ref_logp, 0.1), values_old, 1.0, 0.95)
    args = SimpleNamespace(value_clip=0.2, vf_coef=0.1, ent_coef=ent_coef)
    inputs = [logp.clone().requires_grad_(True), values.clone().requires_grad_(True), entropy.clone().requires_grad_()]
    ref_inputs = [x.detach().clone().requires_grad_(True) for x in inputs]
    loss, stats = ppo_objective(
        inputs[0], logp_old, advantages, inputs[2], inputs[1], values_old, returns, 0.2, 0.2, 0.1, ent_coef
    )
    ref_loss, pg_loss, v_loss, approx_kl, clipfrac = cleanrl_loss(
        ref_inputs[0], logp_old, advantages, ref_inputs[2], ref_inputs[1], values_old, returns, 0.2, args
    )
    loss.backward()
    ref_loss.backward()
    assert torch.allclose(loss, ref_loss)
    assert stats["pg_loss"] == pytest.approx(pg_loss.item(), rel=1e-6)
    assert stats["value_loss"] == pytest.approx(v_loss.item(), rel=1e-6)
    assert stats["approx_kl"] == pytest.approx(approx_kl.item(), rel=1e-5)
    assert 0 < stats["clip_fraction"] == pytest.approx(clipfrac)
    for ours, ref in zip(inputs, ref_inputs):
        assert torch.allclose(ours.grad, ref.grad, atol=1e-7)
    assert (inputs[2].grad != 0).all() == (ent_coef > 0)
    assert explained_variance(values, returns) == pytest.approx(cleanrl_explained_variance(values, returns))


# ------------------------------------------------------------------------------ the trainer, end to end
def trainable(trainer) -> dict:
    named = {n: p for n, p in trainer.policy.named_parameters() if p.requires_grad}
    return named | {f"value_head.{n}": p for n, p in trainer.value_head.named_parameters()}


def ppo_trainer(tiny_lm, **overrides):
    from models.rlhf.language_model import RLHFConfig, RLHFTrainer

    model, tokenizer = tiny_lm
    settings = dict(prompts=("The movie was", "My day at work was", "This book"), group_size=2, new_tokens=5)
    trainer = RLHFTrainer(model, tokenizer, RLHFConfig(method="ppo", **(settings | overrides)))
    # a reward with a spread, readable from the text: the share of distinct characters
    trainer.reward_fn = lambda texts: torch.tensor([len(set(t)) / max(1, len(t)) for t in texts])
    return trainer


def trl_cleanrl_update(policy, value_head, optimizer, sequences, attention_mask, prompt_len, scores, config):
    """One actor-critic PPO iteration written with TRL's PPOTrainer rollout (reference and policy log-probabilities,
    values from the last hidden state at the completion positions, per-token rewards, GAE, whitening) and
    CleanRL's epochs over shuffled minibatches and loss (with its entropy bonus); the permutation drawn as our
    trainer draws it; the gradient norm clipped to 1 as ours. Returns (values, returns, advantages)."""
    from trl.trainer.utils import selective_log_softmax

    context_length = prompt_len

    def forward(idx):
        output = policy(input_ids=sequences[idx], attention_mask=attention_mask[idx], output_hidden_states=True)
        logits = output.logits[:, context_length - 1 : -1] / config.temperature
        new_logprobs = selective_log_softmax(logits, sequences[idx, context_length:])
        vpred = value_head(output.hidden_states[-1][:, context_length - 1 : -1])
        logp_all = F.log_softmax(logits, dim=-1)
        entropy = -(logp_all.exp() * logp_all).sum(-1)
        return new_logprobs, vpred, entropy

    everything = torch.arange(sequences.shape[0])
    with torch.no_grad():
        with policy.disable_adapter():
            ref_logprobs = forward(everything)[0]
        logprobs, values, _ = forward(everything)
    _, advantages, returns = trl_rewards_and_advantages(
        logprobs, ref_logprobs, scores, values, config.kl_coef, config.gamma, config.lam
    )
    generator = torch.Generator().manual_seed(config.sample_seed * 100_003 + 0)
    batch_size = sequences.shape[0]
    mini_batch_size = -(-batch_size // config.minibatches)
    params = [p for group in optimizer.param_groups for p in group["params"]]
    for _ in range(config.ppo_epochs):
        b_inds = torch.randperm(batch_size, generator=generator)
        for start in range(0, batch_size, mini_batch_size):
            mb_inds = b_inds[start : start + mini_batch_size]
            newlogprob, newvalue, entropy = forward(mb_inds)
            loss, *_ = cleanrl_loss(
                newlogprob,
                logprobs[mb_inds],
                advantages[mb_inds],
                entropy,
                newvalue,
                values[mb_inds],
                returns[mb_inds],
                config.clip_range,
                config,
            )
            optimizer.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, 1.0)
            optimizer.step()
    return values, returns, advantages


def test_one_ppo_iteration_equals_the_trl_cleanrl_transcription(tiny_lm):
    """The trainer's whole actor-critic update (3 epochs x 2 minibatches, value and entropy terms on) against
    the transcription on the same sampled tokens: same values, returns and advantages, same weights after."""
    trainer = ppo_trainer(tiny_lm, kl_coef=0.5, ppo_epochs=3, minibatches=2, vf_coef=0.5, ent_coef=0.01)
    torch.manual_seed(1)
    with torch.no_grad():  # off the identity: the policy differs from the reference, the critic is not 0
        for name, p in trainable(trainer).items():
            p.normal_(0, 1.0 if "lora_B" in name else 0.5)
    lr = 5.0  # plain SGD: the weights then move by exactly lr x the (clipped) gradient
    reference = SimpleNamespace(policy=copy.deepcopy(trainer.policy), value_head=copy.deepcopy(trainer.value_head))
    trainer.optimizer = torch.optim.SGD(trainer.parameters, lr=lr)
    reference_optimizer = torch.optim.SGD(list(trainable(reference).values()), lr=lr)
    before = {n: p.detach().clone() for n, p in trainable(trainer).items()}

    metrics = trainer.train_steps(1)
    batch = trainer.batches[-1]
    prompt_len = batch.sequences.shape[1] - trainer.config.new_tokens
    values, returns, advantages = trl_cleanrl_update(
        reference.policy,
        reference.value_head,
        reference_optimizer,
        batch.sequences,
        batch.attention_mask,
        prompt_len,
        batch.rewards,
        trainer.config,
    )
    assert values.std() > 0.1 and batch.kl.abs().mean() > 0.2  # the critic and the KL term take part
    assert torch.allclose(batch.values, values, atol=1e-5)
    assert torch.allclose(batch.returns, returns, atol=1e-4)
    assert torch.allclose(batch.advantages, advantages.mean(1), atol=1e-4)
    assert metrics["clip_fraction"] > 0 and metrics["value_loss"] > 0
    ours, theirs = trainable(trainer), trainable(reference)
    for name, p in ours.items():
        assert not torch.equal(p, before[name]), name
        assert torch.allclose(p, theirs[name], rtol=1e-3, atol=1e-4), name


def test_several_epochs_move_the_ratio_and_clipping_acts(tiny_lm):
    """One epoch of one minibatch: the ratio is exactly 1, nothing is clipped. Four epochs of two minibatches at
    the same learning rate: the later steps see a moved policy, and some ratios leave [1 - ε, 1 + ε]."""
    one = ppo_trainer(tiny_lm, ppo_epochs=1, minibatches=1, adapter_lr=0.02).train_steps(1)
    assert one["clip_fraction"] == 0.0 and one["approx_kl"] == pytest.approx(0.0, abs=1e-7)
    trainer = ppo_trainer(tiny_lm, ppo_epochs=4, minibatches=2, adapter_lr=0.02)
    several = trainer.train_steps(2)
    assert several["clip_fraction"] > 0, several
    assert several["last_epoch_clip_fraction"] >= several["clip_fraction"] > 0
    assert several["approx_kl"] > 0
    assert trainer.value_head.linear.weight.abs().sum() > 0  # the critic learned


def test_ppo_config_rejects_bad_settings():
    from models.rlhf.language_model import RLHFConfig

    with pytest.raises(ValueError, match="minibatches"):
        RLHFConfig(prompts=("a", "b"), group_size=2, minibatches=5)
    with pytest.raises(ValueError, match="γ and λ"):
        RLHFConfig(lam=1.5)
    with pytest.raises(ValueError, match="value"):
        RLHFConfig(vf_coef=-1)


# ------------------------------------------------------------------------------ the reward model
def test_bradley_terry_loss_equals_the_formula_and_trls_reward_trainer():
    from trl import RewardTrainer

    g = torch.Generator().manual_seed(4)
    chosen, rejected = torch.randn(16, generator=g) * 2, torch.randn(16, generator=g) * 2
    direct = torch.stack([-torch.log(torch.sigmoid(c - r)) for c, r in zip(chosen, rejected)]).mean()
    assert torch.allclose(bradley_terry_loss(chosen, rejected), direct, atol=1e-6)

    class Gather:  # what compute_loss needs of accelerate's Accelerator, on one process
        def gather_for_metrics(self, x):
            return x

        gather = gather_for_metrics

    stub = SimpleNamespace(
        model=torch.nn.Module().train(),
        args=SimpleNamespace(center_rewards_coefficient=None),
        accelerator=Gather(),
        _total_train_tokens=0,
        _tp_size=1,
        _metrics={"train": {k: [] for k in ("num_tokens", "min_reward", "mean_reward", "max_reward")}},
    )
    stub._metrics["train"] |= {"accuracy": [], "margin": []}
    logits = torch.cat([chosen, rejected])[:, None]  # TRL batches the chosen first, then the rejected

    def model(**inputs):
        return SimpleNamespace(logits=logits)

    inputs = {"input_ids": torch.zeros(32, 3, dtype=torch.long), "attention_mask": torch.ones(32, 3)}
    trl_loss = RewardTrainer.compute_loss(stub, model, inputs)
    assert torch.allclose(bradley_terry_loss(chosen, rejected), trl_loss)
    assert stub._metrics["train"]["accuracy"][0] == pytest.approx((chosen > rejected).float().mean().item())


def test_reward_model_learns_the_true_ranking_and_dpo_implicit_reward_beside_it():
    from models.rlhf.dpo_sandbox import DPOConfig, DPOTrainer

    trainer = DPOTrainer(DPOConfig(n_pairs=256))
    first = trainer.train_steps(1)
    assert first["rm_loss"] == pytest.approx(0.6931, abs=1e-3)  # r = 0 everywhere: log 2
    metrics = trainer.train_steps(60)
    assert metrics["rm_loss"] < 0.3 and metrics["rm_heldout_accuracy"] > 0.9
    assert metrics["rm_correlation"] > 0.9 and metrics["dpo_correlation"] > 0.3
    # the learned reward is the sum of its weights along the sequence; the implicit one DPO's formula
    model = LinearRewardModel(2, 3)
    with torch.no_grad():
        model.weight.copy_(torch.tensor([[0.0, 1.0, 2.0], [10.0, 20.0, 30.0]]))
    assert model(torch.tensor([[2, 0], [1, 2]])).tolist() == [12.0, 31.0]
    sequences = trainer.sequences
    from models.rlhf.dpo_sandbox import sequence_logp

    expected = trainer.config.beta * (
        sequence_logp(trainer.policy, sequences) - sequence_logp(trainer.reference, sequences)
    )
    assert torch.allclose(trainer.implicit_reward(sequences), expected.detach())
    x, y = torch.tensor([1.0, 2.0, 3.0, 5.0]), torch.tensor([2.0, 4.0, 6.5, 7.0])
    assert pearson(x, y) == pytest.approx(np.corrcoef(x.numpy(), y.numpy())[0, 1])
