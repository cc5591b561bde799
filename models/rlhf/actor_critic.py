"""Actor-critic PPO for a language model: a value head, per-token rewards, GAE over the tokens, the full objective.

InstructGPT's third step (Ouyang et al. 2022, https://arxiv.org/abs/2203.02155), as TRL's PPOTrainer (v0.12-0.19)
and "The N implementation details of RLHF with PPO" (Huang et al. 2024) write it. Each continuation is an episode
of T token-actions; the state s_t is the prompt and the tokens before t.
1. Per-token reward: r_t = -beta * (log pi_old(y_t) - log ref(y_t)) (the KL penalty, k1 per token), and the
   reward model's score added on the last token.
2. A critic: a value head V(s_t), one linear layer on the policy's last hidden state (the trunk is shared, as in
   TRL's AutoModelForCausalLMWithValueHead).
3. GAE over the tokens (Schulman et al. 2015; `policy_gradient.gae`), gamma = 1 and lambda = 0.95 by default:
       delta_t = r_t + gamma * V(s_{t+1}) - V(s_t)   (V after the last token is 0),  A_t = delta_t + gamma*lam*A_{t+1}
   returns R_t = A_t + V(s_t); the advantages are whitened over the batch.
4. Several epochs over shuffled minibatches of the batch, maximising (CleanRL's ppo.py)
       E[min(rho * A, clip(rho, 1 - eps, 1 + eps) * A)] - c1 * value loss + c2 * entropy
   with rho = pi / pi_old per token and the clipped value loss 1/2 * max((V - R)^2, (V_old + clip(V - V_old,
   -eps_v, eps_v) - R)^2). After the first minibatch the policy has moved, so rho leaves 1 and clipping acts.
"""

from __future__ import annotations

import torch

from models.rlhf.policy_gradient import gae, ppo_clip_loss


class ValueHead(torch.nn.Module):
    """V(s_t) from the last hidden state: (B, T, H) -> (B, T). Starts at 0 everywhere."""

    def __init__(self, hidden_size: int):
        super().__init__()
        self.linear = torch.nn.Linear(hidden_size, 1)
        torch.nn.init.zeros_(self.linear.weight)
        torch.nn.init.zeros_(self.linear.bias)

    def forward(self, hidden: torch.Tensor) -> torch.Tensor:
        return self.linear(hidden.float()).squeeze(-1)


def token_rewards(scores: torch.Tensor, logp_old: torch.Tensor, ref_logp: torch.Tensor, kl_coef: float):
    """(B, T) rewards: -beta * k1 KL on every token, the score (B,) added on the last one."""
    rewards = -kl_coef * (logp_old - ref_logp)  # (B, T)
    rewards[:, -1] += scores
    return rewards


def whiten(x: torch.Tensor) -> torch.Tensor:
    """(x - mean) / sqrt(var + 1e-8) over every element, unbiased var (TRL's masked_whiten); one element: 0."""
    if x.numel() < 2:
        return torch.zeros_like(x)
    return (x - x.mean()) * torch.rsqrt(x.var() + 1e-8)


def token_advantages(rewards: torch.Tensor, values: torch.Tensor, gamma: float, lam: float):
    """GAE along the tokens of each continuation: rewards, values (B, T) -> (whitened advantages, returns), (B, T).
    The returns (the value head's targets) are taken before whitening."""
    dones = torch.zeros_like(rewards.T)  # (T, B): the episode ends after the last token, where V = 0
    advantages, returns = gae(rewards.T, values.T, dones, gamma, lam, last_value=0.0)
    return whiten(advantages.T), returns.T


def value_loss(values: torch.Tensor, values_old: torch.Tensor, returns: torch.Tensor, value_clip: float):
    """1/2 * mean(max((V - R)^2, (V_clip - R)^2)), V_clip = V_old + clip(V - V_old, +-value_clip); and the share
    of values where the clipped term is the larger (it then stops the gradient)."""
    clipped = values_old + torch.clamp(values - values_old, -value_clip, value_clip)
    unclipped_sq, clipped_sq = (values - returns) ** 2, (clipped - returns) ** 2
    loss = 0.5 * torch.max(unclipped_sq, clipped_sq).mean()
    return loss, (clipped_sq > unclipped_sq).float().mean().item()


def ppo_objective(
    logp, logp_old, advantages, entropy, values, values_old, returns, clip_range, value_clip, vf_coef, ent_coef
):
    """PPO's loss to minimise: pg_loss + c1 * value_loss - c2 * entropy, all (B, T), and its diagnostics."""
    pg_loss, stats = ppo_clip_loss(logp, logp_old, advantages, clip_range)
    v_loss, value_clip_fraction = value_loss(values, values_old, returns, value_clip)
    entropy_mean = entropy.mean()
    loss = pg_loss + vf_coef * v_loss - ent_coef * entropy_mean
    stats = stats | {
        "pg_loss": pg_loss.item(),
        "value_loss": v_loss.item(),
        "value_clip_fraction": value_clip_fraction,
        "entropy": entropy_mean.item(),
    }
    return loss, stats


def explained_variance(values: torch.Tensor, returns: torch.Tensor) -> float:
    """1 - Var(R - V) / Var(R): 1 for a perfect critic, 0 for one that predicts the mean, negative when worse."""
    var = returns.var()
    return float("nan") if var == 0 else (1 - (returns - values).var() / var).item()
