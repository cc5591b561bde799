"""Policy-gradient losses: REINFORCE, PPO's clipped surrogate, GAE, GRPO's group advantages, DPO.

Each is a few flat lines, written the way CleanRL's `ppo.py` writes them, so every detail is visible.

- REINFORCE (Williams 1992): grad J = E[grad log pi(a) * (R - b)]; a baseline b lowers the variance, not the mean.
- PPO (Schulman et al. 2017, https://arxiv.org/abs/1707.06347): with r = pi_new(a) / pi_old(a),
      L = -E[min(r * A, clip(r, 1 - eps, 1 + eps) * A)]
  Outside the band the min picks the clipped, constant term: the gradient is zero there. Clipping removes the
  incentive to move further; it does not bound the ratio (a step can still overshoot the band).
- GAE (Schulman et al. 2015, https://arxiv.org/abs/1506.02438):
      delta_t = r_t + gamma * V_{t+1} * (1 - done_t) - V_t,  A_t = delta_t + gamma * lam * (1 - done_t) * A_{t+1}
- GRPO (Shao et al. 2024, https://arxiv.org/abs/2402.03300): sample a group per prompt, A = (r - mean) / (std + eps)
  within the group; no critic. A group whose rewards are all equal gives A = 0: no signal.
- DPO (Rafailov et al. 2023, https://arxiv.org/abs/2305.18290):
      L = -log sigmoid(beta * ((log pi(y_w) - log ref(y_w)) - (log pi(y_l) - log ref(y_l))))
- KL to the reference, the k3 estimator TRL logs (http://joschu.net/blog/kl-approx.html):
      KL ~ exp(ref - logp) - (ref - logp) - 1   (>= 0, unbiased for samples from the policy)
"""

from __future__ import annotations

import torch
from torch.nn import functional as F


def _check_eps(clip_eps: float | None) -> None:
    if clip_eps is not None and not 0.0 < clip_eps < 1.0:
        raise ValueError(f"The clipping range ε must lie in (0, 1) (got {clip_eps}); 0.1–0.3 is usual.")


def ppo_clip_loss(
    logp_new: torch.Tensor,
    logp_old: torch.Tensor,
    advantages: torch.Tensor,
    clip_eps: float | None = 0.2,
    mask: torch.Tensor | None = None,
) -> tuple[torch.Tensor, dict]:
    """PPO's clipped surrogate loss (to minimise) and its diagnostics; clip_eps=None: no clipping.

    All inputs have the same shape (any); `mask` (same shape, 0/1) averages over the real tokens only.
    stats: ratio (detached, same shape), clip_fraction, approx_kl (CleanRL's (r - 1) - log r), old_approx_kl.
    """
    _check_eps(clip_eps)
    logratio = logp_new - logp_old
    ratio = logratio.exp()
    pg_loss1 = -advantages * ratio
    if clip_eps is None:
        pg_losses = pg_loss1  # the plain importance-weighted surrogate
    else:
        pg_loss2 = -advantages * torch.clamp(ratio, 1 - clip_eps, 1 + clip_eps)
        pg_losses = torch.max(pg_loss1, pg_loss2)
    weights = torch.ones_like(pg_losses) if mask is None else mask.to(pg_losses.dtype)
    count = weights.sum().clamp_min(1.0)
    loss = (pg_losses * weights).sum() / count
    with torch.no_grad():
        eps = 0.2 if clip_eps is None else clip_eps  # unclipped: how often it *would* have clipped
        clipped = ((ratio - 1.0).abs() > eps).float()
        stats = {
            "ratio": ratio.detach(),
            "clip_fraction": ((clipped * weights).sum() / count).item(),
            "approx_kl": ((((ratio - 1) - logratio) * weights).sum() / count).item(),
            "old_approx_kl": ((-logratio * weights).sum() / count).item(),
        }
    return loss, stats


def clipped_objective(ratio: torch.Tensor, advantage: torch.Tensor, clip_eps: float):
    """The surrogate objective min(r*A, clip(r)*A) (to maximise) and where its gradient in r is zero.

    ratio and advantage broadcast; returns (objective, flat) with flat True where d objective / d r = 0.
    """
    _check_eps(clip_eps)
    unclipped = ratio * advantage
    clipped = torch.clamp(ratio, 1 - clip_eps, 1 + clip_eps) * advantage
    objective = torch.minimum(unclipped, clipped)
    flat = ((advantage > 0) & (ratio > 1 + clip_eps)) | ((advantage < 0) & (ratio < 1 - clip_eps))
    return objective, flat | (advantage == 0)


def gae(
    rewards: torch.Tensor,
    values: torch.Tensor,
    dones: torch.Tensor,
    gamma: float = 0.99,
    lam: float = 0.95,
    last_value: torch.Tensor | float = 0.0,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Generalised advantage estimation over a rollout of T steps (first dimension; more envs may follow).

    rewards[t], values[t] = V(s_t); dones[t] = 1 when the episode ended with step t (no bootstrap across it);
    last_value = V(s_T) after the rollout. Returns (advantages, returns = advantages + values), shapes as rewards.
    """
    if not 0.0 <= gamma <= 1.0 or not 0.0 <= lam <= 1.0:
        raise ValueError("γ and λ must lie in [0, 1].")
    num_steps = rewards.shape[0]
    advantages = torch.zeros_like(rewards)
    lastgaelam = torch.zeros_like(rewards[0])
    for t in reversed(range(num_steps)):
        nextvalues = values[t + 1] if t + 1 < num_steps else torch.as_tensor(last_value).to(values)
        nextnonterminal = 1.0 - dones[t].to(rewards.dtype)
        delta = rewards[t] + gamma * nextvalues * nextnonterminal - values[t]
        advantages[t] = lastgaelam = delta + gamma * lam * nextnonterminal * lastgaelam
    return advantages, advantages + values


def reinforce_loss(
    logp: torch.Tensor, returns: torch.Tensor, baseline: torch.Tensor | float | None = None
) -> torch.Tensor:
    """-E[log pi(a) * (R - b)]: its gradient is the REINFORCE estimate (b=None: no baseline)."""
    advantage = returns if baseline is None else returns - baseline
    return -(logp * advantage.detach()).mean()


def grpo_advantages(rewards: torch.Tensor, group_size: int, eps: float = 1e-4) -> torch.Tensor:
    """(r - group mean) / (group std + eps) for consecutive groups of `group_size` (TRL's scale_rewards="group").

    rewards: (N,) with N a multiple of group_size; the std is the unbiased one, as TRL's. Returns (N,).
    """
    if group_size < 2:
        raise ValueError("A GRPO group needs at least 2 samples: with 1 there is no group mean to compare with.")
    if rewards.numel() % group_size:
        raise ValueError(f"{rewards.numel()} rewards do not split into groups of {group_size}.")
    grouped = rewards.reshape(-1, group_size)  # (groups, G)
    mean = grouped.mean(dim=1, keepdim=True)
    std = grouped.std(dim=1, keepdim=True)  # unbiased (Bessel), as TRL's nanstd
    return ((grouped - mean) / (std + eps)).reshape(rewards.shape)


def dpo_loss(
    policy_chosen: torch.Tensor,
    policy_rejected: torch.Tensor,
    ref_chosen: torch.Tensor,
    ref_rejected: torch.Tensor,
    beta: float = 0.1,
) -> torch.Tensor:
    """DPO's sigmoid loss, averaged over pairs; inputs are summed sequence log-probabilities, (N,) each."""
    if beta <= 0:
        raise ValueError(f"DPO's β must be positive (got {beta}); 0.1 is usual.")
    margin = (policy_chosen - ref_chosen) - (policy_rejected - ref_rejected)  # (N,)
    return -F.logsigmoid(beta * margin).mean()


def dpo_implicit_rewards(policy_logp, ref_logp, beta: float) -> torch.Tensor:
    """DPO's implicit reward beta * (log pi(y) - log ref(y)); chosen minus rejected is the reward margin."""
    return beta * (policy_logp - ref_logp).detach()


def kl_k3(logp: torch.Tensor, ref_logp: torch.Tensor) -> torch.Tensor:
    """Per-token KL(pi || ref) estimate exp(ref - logp) - (ref - logp) - 1 (TRL's GRPO), same shape."""
    delta = ref_logp - logp
    return torch.exp(delta) - delta - 1


def entropy(logits: torch.Tensor) -> torch.Tensor:
    """Entropy of the categorical distributions along the last dimension (nats)."""
    logp = F.log_softmax(logits, dim=-1)
    return -(logp.exp() * logp).sum(-1)
