"""models/rlhf/policy_gradient.py, pg_sandbox.py and rlhf.py against references.

References:
- CleanRL `cleanrl/ppo.py` (vwxyzjn/cleanrl, the PPO update and the GAE loop), transcribed below line for line;
- TRL 1.16 (installed): `trl.trainer.utils.nanstd` called directly, and the few lines of GRPOTrainer
  (`_generate_and_score_completions`: advantages) and DPOTrainer (`_compute_loss`, loss_type="sigmoid") that are
  inline in the trainers, transcribed; the k3 KL estimator GRPOTrainer computes (`per_token_kl`);
- a GAE computed by hand on a 4-step trajectory with an episode end.
"""

import copy

import pytest
import torch
from torch.nn import functional as F

from models.rlhf.pg_sandbox import SandboxConfig, SandboxTrainer
from models.rlhf.policy_gradient import (
    clipped_objective,
    dpo_loss,
    gae,
    grpo_advantages,
    kl_k3,
    ppo_clip_loss,
    reinforce_loss,
)


def fixed_tensors(n=64, seed=0):
    g = torch.Generator().manual_seed(seed)
    logp_old = -torch.rand(n, generator=g) * 3
    logp_new = logp_old + torch.randn(n, generator=g) * 0.4
    advantages = torch.randn(n, generator=g)
    return logp_new, logp_old, advantages


def cleanrl_ppo(newlogprob, b_logprobs, mb_advantages, clip_coef):
    """cleanrl/ppo.py, the policy-loss lines of the update loop (norm_adv off)."""
    logratio = newlogprob - b_logprobs
    ratio = logratio.exp()
    with torch.no_grad():
        old_approx_kl = (-logratio).mean()
        approx_kl = ((ratio - 1) - logratio).mean()
        clipfrac = ((ratio - 1.0).abs() > clip_coef).float().mean().item()
    pg_loss1 = -mb_advantages * ratio
    pg_loss2 = -mb_advantages * torch.clamp(ratio, 1 - clip_coef, 1 + clip_coef)
    pg_loss = torch.max(pg_loss1, pg_loss2).mean()
    return pg_loss, old_approx_kl, approx_kl, clipfrac


@pytest.mark.parametrize("eps", [0.1, 0.2, 0.3])
def test_ppo_clip_loss_equals_cleanrl(eps):
    logp_new, logp_old, adv = fixed_tensors()
    ours_in = logp_new.clone().requires_grad_(True)
    ref_in = logp_new.clone().requires_grad_(True)
    loss, stats = ppo_clip_loss(ours_in, logp_old, adv, clip_eps=eps)
    ref_loss, old_kl, kl, clipfrac = cleanrl_ppo(ref_in, logp_old, adv, eps)
    loss.backward()
    ref_loss.backward()
    assert torch.allclose(loss, ref_loss)
    assert torch.allclose(ours_in.grad, ref_in.grad)
    assert stats["clip_fraction"] == pytest.approx(clipfrac)
    assert 0 < stats["clip_fraction"] < 1  # the fixed tensors exercise both branches
    assert stats["approx_kl"] == pytest.approx(kl.item(), rel=1e-6)
    assert stats["old_approx_kl"] == pytest.approx(old_kl.item(), rel=1e-6)
    assert torch.allclose(stats["ratio"], (logp_new - logp_old).exp())


def test_unclipped_is_the_importance_weighted_surrogate_and_clipping_zeroes_gradients():
    logp_new, logp_old, adv = fixed_tensors()
    x = logp_new.clone().requires_grad_(True)
    loss, _ = ppo_clip_loss(x, logp_old, adv, clip_eps=None)
    assert torch.allclose(loss, -(adv * (logp_new - logp_old).exp()).mean())
    x = logp_new.clone().requires_grad_(True)
    ppo_clip_loss(x, logp_old, adv, clip_eps=0.2)[0].backward()
    ratio = (logp_new - logp_old).exp()
    outside = ((adv > 0) & (ratio > 1.2)) | ((adv < 0) & (ratio < 0.8))
    assert outside.any() and (x.grad[outside] == 0).all()
    assert (x.grad[~outside] != 0).all()


def test_clipped_objective_flat_regions_have_zero_gradient():
    ratio = torch.linspace(0.01, 2.5, 300, requires_grad=True)
    for a in (1.5, -0.7):
        objective, flat = clipped_objective(ratio, torch.tensor(a), 0.2)
        (grad,) = torch.autograd.grad(objective.sum(), ratio)
        assert torch.equal(grad == 0, flat)
        assert torch.allclose(objective, torch.minimum(ratio * a, ratio.clamp(0.8, 1.2) * a))
    with pytest.raises(ValueError, match="ε"):
        clipped_objective(ratio, torch.tensor(1.0), 1.5)


def cleanrl_gae(rewards, values, dones, next_value, next_done, gamma, gae_lambda):
    """cleanrl/ppo.py's bootstrap loop; dones[t] there means obs t starts a new episode."""
    num_steps = rewards.shape[0]
    advantages = torch.zeros_like(rewards)
    lastgaelam = 0
    for t in reversed(range(num_steps)):
        if t == num_steps - 1:
            nextnonterminal = 1.0 - next_done
            nextvalues = next_value
        else:
            nextnonterminal = 1.0 - dones[t + 1]
            nextvalues = values[t + 1]
        delta = rewards[t] + gamma * nextvalues * nextnonterminal - values[t]
        advantages[t] = lastgaelam = delta + gamma * gae_lambda * nextnonterminal * lastgaelam
    return advantages, advantages + values


def test_gae_equals_cleanrl_on_a_random_rollout_with_episode_ends():
    g = torch.Generator().manual_seed(1)
    T, N = 32, 4
    rewards, values = torch.randn(T, N, generator=g), torch.randn(T, N, generator=g)
    ended = (torch.rand(T, N, generator=g) < 0.15).float()  # ours: episode ended with step t
    assert ended.sum() > 2
    next_value = torch.randn(N, generator=g)
    ours = gae(rewards, values, ended, 0.99, 0.95, last_value=next_value)
    # CleanRL's flag marks the *next* observation as a fresh start
    cleanrl_dones = torch.cat([torch.zeros(1, N), ended[:-1]])
    ref = cleanrl_gae(rewards, values, cleanrl_dones, next_value, ended[-1], 0.99, 0.95)
    assert torch.allclose(ours[0], ref[0], atol=1e-5)
    assert torch.allclose(ours[1], ref[1], atol=1e-5)


def test_gae_by_hand():
    # r = [1, 0, 2, 1], V = [0.5, 0.2, 1.0, 0.3], the episode ends after step 1, V(s_4) = 0.4
    rewards = torch.tensor([1.0, 0.0, 2.0, 1.0])
    values = torch.tensor([0.5, 0.2, 1.0, 0.3])
    dones = torch.tensor([0.0, 1.0, 0.0, 0.0])
    g, lam = 0.9, 0.5
    d3 = 1.0 + g * 0.4 - 0.3  # 1.06
    d2 = 2.0 + g * 0.3 - 1.0  # 1.27
    d1 = 0.0 - 0.2  # episode end: no bootstrap
    d0 = 1.0 + g * 0.2 - 0.5  # 0.68
    a3 = d3
    a2 = d2 + g * lam * a3
    a1 = d1
    a0 = d0 + g * lam * a1
    adv, ret = gae(rewards, values, dones, g, lam, last_value=0.4)
    assert torch.allclose(adv, torch.tensor([a0, a1, a2, a3]))
    assert torch.allclose(ret, adv + values)


def test_grpo_advantages_equal_trls():
    from trl.trainer.utils import nanstd

    g = torch.Generator().manual_seed(2)
    rewards = torch.rand(24, generator=g)
    rewards[8:12] = 0.5  # a degenerate group: all rewards equal
    num_generations = 4
    # trl/trainer/grpo_trainer.py, scale_rewards="group"
    mean_grouped_rewards = torch.nanmean(rewards.view(-1, num_generations), dim=1)
    mean_grouped_rewards = mean_grouped_rewards.repeat_interleave(num_generations, dim=0)
    std_rewards = nanstd(rewards.view(-1, num_generations), dim=1)
    std_rewards = std_rewards.repeat_interleave(num_generations, dim=0)
    reference = (rewards - mean_grouped_rewards) / (std_rewards + 1e-4)
    ours = grpo_advantages(rewards, num_generations)
    assert torch.allclose(ours, reference, atol=1e-6)
    assert (ours[8:12] == 0).all()
    with pytest.raises(ValueError, match="at least 2"):
        grpo_advantages(rewards, 1)


def test_dpo_loss_equals_trls_sigmoid_loss():
    g = torch.Generator().manual_seed(3)
    chosen_logps, rejected_logps, ref_chosen_logps, ref_rejected_logps = (
        -torch.rand(16, generator=g) * 20 for _ in range(4)
    )
    for beta in (0.1, 0.5):
        # trl/trainer/dpo_trainer.py `_compute_loss`, f_divergence_type="reverse_kl", loss_type="sigmoid"
        chosen_logratios = chosen_logps - ref_chosen_logps
        rejected_logratios = rejected_logps - ref_rejected_logps
        delta_score = chosen_logratios - rejected_logratios
        reference = (-F.logsigmoid(beta * delta_score)).mean()
        ours = dpo_loss(chosen_logps, rejected_logps, ref_chosen_logps, ref_rejected_logps, beta)
        assert torch.allclose(ours, reference)
    with pytest.raises(ValueError, match="β"):
        dpo_loss(chosen_logps, rejected_logps, ref_chosen_logps, ref_rejected_logps, -1)


def test_kl_estimator_is_trls_k3_and_nonnegative():
    logp, ref, _ = fixed_tensors()
    # trl/trainer/grpo_trainer.py: per_token_kl
    per_token_kl = torch.exp(ref - logp) - (ref - logp) - 1
    assert torch.allclose(kl_k3(logp, ref), per_token_kl)
    assert (kl_k3(logp, ref) >= 0).all()


def test_reinforce_gradient_is_score_function_times_advantage():
    logits = torch.zeros(5, requires_grad=True)
    actions = torch.tensor([0, 1, 1, 4])
    returns = torch.tensor([1.0, 0.0, 2.0, -1.0])
    logp = logits.log_softmax(-1)[actions]
    reinforce_loss(logp, returns, baseline=returns.mean()).backward()
    probs = torch.full((5,), 0.2)
    expected = torch.zeros(5)
    for a, r in zip(actions, returns - returns.mean()):
        expected += -(F.one_hot(a, 5) - probs) * r / 4
    assert torch.allclose(logits.grad, expected, atol=1e-6)


def test_sandbox_records_every_run_and_same_seed_runs_start_equal():
    config = SandboxConfig(n_seeds=3, methods=("ppo", "reinforce_baseline"), clip_eps=(0.2,))
    many = SandboxTrainer(config)
    many.train_steps(5)
    # same initial policy and random stream: the first batch is the same for every run
    assert torch.equal(many.reward["ppo ε=0.2"][0], many.reward["reinforce_baseline"][0])
    first_many = many.reward["ppo ε=0.2"][0]
    assert first_many.shape == (3,)
    assert torch.isfinite(many.reward_matrix("ppo ε=0.2")).all()
    assert len(many.ratios["ppo ε=0.2"]) == config.update_epochs
    assert len(many.reward["reinforce_baseline"]) == 5


def test_clipping_gets_stuck_in_fewer_seeds_at_a_high_learning_rate():
    """The page's claim, on the bandit at lr 1.0: unclipped PPO collapses onto a bad arm more often."""
    config = SandboxConfig(lr=1.0, methods=("ppo", "ppo_noclip"), clip_eps=(0.2,))
    trainer = SandboxTrainer(config)
    trainer.train_steps(60)
    clipped, unclipped = trainer.stuck_fraction("ppo ε=0.2"), trainer.stuck_fraction("ppo_noclip")
    assert unclipped > clipped + 0.1, (clipped, unclipped)
    assert max(trainer.outside["ppo ε=0.2"]) > 0  # clipping does not bound the ratio
    assert trainer.peak_outside["ppo ε=0.2"] == max(trainer.outside["ppo ε=0.2"])
    assert len(trainer.peak_ratios["ppo ε=0.2"]) == config.update_epochs


def test_sandbox_rejects_bad_settings():
    with pytest.raises(ValueError, match="ε"):
        SandboxConfig(clip_eps=(1.5,))
    with pytest.raises(ValueError, match="GRPO"):
        SandboxConfig(group_size=1)
    with pytest.raises(ValueError, match="learning rate"):
        SandboxConfig(lr=-1)


def test_sandbox_nan_is_detected():
    trainer = SandboxTrainer(SandboxConfig(n_seeds=2, methods=("ppo",), clip_eps=(0.2,)))
    with torch.no_grad():
        trainer.tables["ppo ε=0.2"][0, 0, 0, 0] = float("nan")
    with pytest.raises(ValueError, match="NaN"):
        trainer.train_steps(1)


def test_rlhf_config_rejects_bad_input():
    from models.rlhf.language_model import RLHFConfig

    with pytest.raises(ValueError, match="prompt"):
        RLHFConfig(prompts=("", "  "))
    with pytest.raises(ValueError, match="β"):
        RLHFConfig(kl_coef=-0.1)
    with pytest.raises(ValueError, match="ε"):
        RLHFConfig(clip_range=1.2)
    with pytest.raises(ValueError, match="GRPO"):
        RLHFConfig(method="grpo", group_size=1)


@pytest.mark.slow
def test_rlhf_iteration_trains_only_the_adapters_and_keeps_the_reference(smollm2):
    from models.rlhf.language_model import RLHFConfig, RLHFTrainer

    model, tokenizer = smollm2
    before = {k: v.clone() for k, v in model.state_dict().items() if "layers.0." in k}
    config = RLHFConfig(prompts=("The movie was", "My day"), new_tokens=4)
    trainer = RLHFTrainer(model, tokenizer, config)
    metrics = trainer.train_steps(1)
    assert metrics["kl"] == pytest.approx(0.0, abs=1e-4)  # LoRA starts as the identity
    assert len(trainer.batches[-1].texts) == 4
    metrics = trainer.train_steps(1)
    assert metrics["kl"] != 0.0  # the adapters moved
    for k, v in model.state_dict().items():  # the shared model is untouched
        if k in before:
            assert torch.equal(v, before[k])


# ---------------------------------------------------------------- one RLHF update against TRL's formulas
def adapters(policy) -> dict:
    return {n: p for n, p in policy.named_parameters() if p.requires_grad}


def trl_update(policy, optimizer, sequences, attention_mask, prompt_len, rewards, config):
    """One iteration's update written with TRL 1.16's lines, on the same sampled sequences.

    Log-probabilities: RLOOTrainer/GRPOTrainer `_get_per_token_logps_and_entropies` (logits of the completion
    positions / temperature, `trl.trainer.utils.selective_log_softmax`, called directly).
    reinforce recipe, advantages: RLOOTrainer `_generate_and_score_completions` with beta != 0 (k1 per token, summed,
    subtracted from the reward), the whole batch as one group (num_generations = B), normalize_advantages=True.
    grpo recipe, advantages: GRPOTrainer with scale_rewards="group" (nanstd called directly).
    loss: GRPOTrainer `_compute_loss`, importance_sampling_level="token", loss_type="grpo", epsilon_low =
    epsilon_high = ε, plus beta * per_token_kl (k3) for grpo only (reinforce has its KL in the reward); reinforce
    takes one step (num_iterations = 1: the ratio is 1, the clipped loss's gradient is REINFORCE's).
    Then, as our trainer: clip the gradient norm to 1 and step. Returns (advantages, kl, last loss).
    """
    from trl.trainer.utils import nanstd, selective_log_softmax

    logits_to_keep = sequences.shape[1] - prompt_len
    completion_ids = sequences[:, -logits_to_keep:]
    completion_mask = torch.ones_like(completion_ids)

    def completion_logps():
        logits = policy(input_ids=sequences, attention_mask=attention_mask).logits
        logits = logits[:, :-1, :][:, -logits_to_keep:, :] / config.temperature
        return selective_log_softmax(logits, completion_ids)

    with torch.no_grad():
        with policy.disable_adapter():
            ref_per_token_logps = completion_logps()
        old_per_token_logps = completion_logps()
    beta = config.kl_coef
    if config.method == "reinforce":
        per_token_kl = old_per_token_logps - ref_per_token_logps
        kl = (per_token_kl * completion_mask).sum(-1)
        rewards = rewards - beta * kl
        num_generations = len(rewards)
        grouped_rewards = rewards.view(-1, num_generations)
        scorable_counts = (~torch.isnan(grouped_rewards)).sum(dim=1, keepdim=True)
        grouped_sum = torch.nansum(grouped_rewards, dim=1, keepdim=True)
        baselines = ((grouped_sum - grouped_rewards) / (scorable_counts - 1)).view(-1)
        advantages = rewards - baselines
        advantages = (advantages - torch.nanmean(advantages)) / (nanstd(advantages) + 1e-4)
        loss_beta = 0.0
    else:
        kl = (old_per_token_logps - ref_per_token_logps).sum(-1)
        num_generations = config.group_size
        mean_grouped_rewards = rewards.view(-1, num_generations).mean(dim=1)
        mean_grouped_rewards = mean_grouped_rewards.repeat_interleave(num_generations, dim=0)
        std_rewards = nanstd(rewards.view(-1, num_generations), dim=1)
        std_rewards = std_rewards.repeat_interleave(num_generations, dim=0)
        advantages = (rewards - mean_grouped_rewards) / (std_rewards + 1e-4)
        loss_beta = beta
    params = list(adapters(policy).values())
    for _ in range(config.ppo_epochs if config.method == "grpo" else 1):
        per_token_logps = completion_logps()
        log_ratio = per_token_logps - old_per_token_logps
        coef_1 = torch.exp(log_ratio)
        coef_2 = torch.clamp(coef_1, 1 - config.clip_range, 1 + config.clip_range)
        per_token_loss1 = coef_1 * advantages.unsqueeze(1)
        per_token_loss2 = coef_2 * advantages.unsqueeze(1)
        per_token_loss = -torch.min(per_token_loss1, per_token_loss2)
        if loss_beta != 0.0:
            per_token_kl = (
                torch.exp(ref_per_token_logps - per_token_logps) - (ref_per_token_logps - per_token_logps) - 1
            )
            per_token_loss = per_token_loss + loss_beta * per_token_kl
        mask = completion_mask
        loss = ((per_token_loss * mask).sum(-1) / mask.sum(-1).clamp(min=1.0)).mean()
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        optimizer.step()
    return advantages, kl, loss.item()


@pytest.mark.parametrize("method", ["reinforce", "grpo"])
def test_one_rlhf_update_equals_trls_formulas(tiny_lm, method):
    """Our critic-free updates (log-probs, KL, advantages, the loss, the steps: grpo 2 clipped epochs, reinforce one
    step) against
    TRL's lines on the same sampled tokens: same advantages, same KL, same loss, same adapter weights after."""
    from models.rlhf.language_model import RLHFConfig, RLHFTrainer

    model, tokenizer = tiny_lm
    config = RLHFConfig(
        prompts=("The movie was", "My day at work was", "This book"),
        method=method,
        group_size=4,
        new_tokens=5,
        ppo_epochs=2,
        kl_coef=1.0,
    )
    trainer = RLHFTrainer(model, tokenizer, config)
    torch.manual_seed(1)
    with torch.no_grad():  # move the adapters off the identity: the policy differs from the reference
        for name, p in adapters(trainer.policy).items():
            p.normal_(0, 1.0 if "lora_B" in name else 0.5)
    # a reward with a spread, readable from the text: the share of distinct characters
    trainer.reward_fn = lambda texts: torch.tensor([len(set(t)) / max(1, len(t)) for t in texts])
    reference = copy.deepcopy(trainer.policy)
    lr = 20.0  # plain SGD: the weights then move by exactly lr x the (clipped) gradient
    trainer.optimizer = torch.optim.SGD(list(adapters(trainer.policy).values()), lr=lr)
    reference_optimizer = torch.optim.SGD(list(adapters(reference).values()), lr=lr)
    before = {n: p.detach().clone() for n, p in adapters(trainer.policy).items()}

    metrics = trainer.train_steps(1)
    batch = trainer.batches[-1]
    prompt_len = batch.sequences.shape[1] - config.new_tokens
    advantages, kl, loss = trl_update(
        reference, reference_optimizer, batch.sequences, batch.attention_mask, prompt_len, batch.rewards, config
    )

    assert kl.abs().mean() > 0.2 and kl.std() > 0.2  # the KL term matters in this comparison
    assert torch.allclose(batch.kl, kl, atol=1e-4)
    assert batch.advantages.std() > 0.5
    assert torch.allclose(batch.advantages, advantages, rtol=1e-3, atol=1e-3)
    if method == "grpo":  # reinforce's loss is -A * log pi, TRL's -A * ratio: same gradient, other values
        assert metrics["loss"] == pytest.approx(loss, rel=1e-3, abs=1e-6)
    if method == "grpo":
        assert metrics["clip_fraction"] > 0, metrics  # the second epoch's ratios left the band: the clip branch acts
    else:
        assert metrics["clip_fraction"] == 0.0  # one step at ratio 1: REINFORCE, nothing to clip
    ours, theirs = adapters(trainer.policy), adapters(reference)
    for name, p in ours.items():
        assert not torch.equal(p, before[name]) or name.endswith("lora_A.default.weight")
        assert torch.allclose(p, theirs[name], rtol=1e-3, atol=1e-4), name


def test_nan_stops_the_run_with_a_message_and_keeps_the_results(tiny_lm):
    """NaN adapters (what too high a learning rate leaves) or a NaN loss: a ValueError that says what to do,
    the run marked done, the history and samples of the earlier iterations kept."""
    from models.rlhf.language_model import RLHFConfig, RLHFTrainer

    model, tokenizer = tiny_lm
    config = RLHFConfig(prompts=("The movie was", "This book"), new_tokens=3)
    trainer = RLHFTrainer(model, tokenizer, config)
    trainer.reward_fn = lambda texts: torch.tensor([len(set(t)) / max(1, len(t)) for t in texts])
    trainer.train_steps(1)
    with torch.no_grad():
        next(iter(adapters(trainer.policy).values())).fill_(float("nan"))
    with pytest.raises(ValueError, match="NaN or infinite at iteration 2.*Lower the learning rate"):
        trainer.train_steps(1)
    assert trainer.done and len(trainer.history) == 1 and trainer.batches[-1].iteration == 0

    trainer = RLHFTrainer(model, tokenizer, config)
    trainer.reward_fn = lambda texts: torch.full((len(texts),), float("nan"))
    with pytest.raises(ValueError, match="loss became NaN at iteration 1"):
        trainer.train_steps(1)
    assert trainer.done and trainer.history == []
