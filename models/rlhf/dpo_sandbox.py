"""DPO on the sandbox's sequence task: preferences from the known reward, no reward model, no RL loop.

Pairs of sequences are sampled once from a fixed reference policy (random logits); in each pair the one with the
higher reward is "chosen" (ties are dropped). The policy starts as the reference and minimises DPO's loss
(Rafailov et al. 2023, models/policy_gradient.dpo_loss) on that fixed dataset. Tracked: the loss, the implicit reward
margin beta * (chosen log-ratio - rejected log-ratio), chosen and rejected log-probabilities, and what the policy now
earns on the task when sampled.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from models.rlhf.pg_sandbox import SandboxConfig, SandboxTask, sample, token_logits
from models.rlhf.policy_gradient import dpo_implicit_rewards, dpo_loss


@dataclass
class DPOConfig:
    beta: float = 0.1  # DPO's β: small = the policy may move far from the reference
    n_pairs: int = 256  # preference pairs sampled from the reference
    dpo_lr: float = 0.05  # Adam learning rate on the policy's logits
    vocab: int = 5  # tokens per position of the sequence task
    length: int = 4  # tokens per sequence
    pair_seed: int = 0  # seed of the reference and of the pairs

    def __post_init__(self):
        if not self.beta > 0:
            raise ValueError(f"DPO's β must be positive (got {self.beta}); 0.1 is usual.")
        if not 8 <= self.n_pairs <= 20_000:
            raise ValueError("Use 8 to 20,000 preference pairs.")
        if not 0 < self.dpo_lr <= 10:
            raise ValueError(f"The learning rate must lie in (0, 10] (got {self.dpo_lr}).")


def sequence_logp(table: torch.Tensor, actions: torch.Tensor) -> torch.Tensor:
    """Summed log-probability of each sequence; table (1, L, K, K), actions (1, N, L) -> (N,)."""
    logp = token_logits(table, actions).log_softmax(-1).gather(-1, actions[..., None])
    return logp.squeeze(-1).sum(-1)[0]


class DPOTrainer:
    def __init__(self, config: DPOConfig, device: str = "cpu"):
        self.config, self.device = config, device
        task_config = SandboxConfig(task="sequence", n_seeds=1, n_actions=config.vocab, seq_len=config.length)
        self.task = SandboxTask(task_config, device)
        gen = torch.Generator().manual_seed(config.pair_seed)
        shape = (1, config.length, config.vocab, config.vocab)
        self.reference = torch.randn(shape, generator=gen).to(device)  # (1, L, K, K)
        self.policy = self.reference.clone().requires_grad_(True)
        self.optimizer = torch.optim.Adam([self.policy], lr=config.dpo_lr)
        first = sample(self.reference, config.n_pairs, gen)  # (1, N, L)
        second = sample(self.reference, config.n_pairs, gen)
        r1, r2 = self.task.clean_reward(first)[0], self.task.clean_reward(second)[0]  # (N,)
        keep = r1 != r2
        if keep.sum() < 2:
            raise ValueError("Almost every pair is a tie: use more pairs.")
        self.chosen = torch.where((r1 > r2)[:, None], first[0], second[0])[keep][None]  # (1, M, L)
        self.rejected = torch.where((r1 > r2)[:, None], second[0], first[0])[keep][None]
        with torch.no_grad():
            self.ref_chosen = sequence_logp(self.reference, self.chosen)  # (M,)
            self.ref_rejected = sequence_logp(self.reference, self.rejected)
        self.generator = torch.Generator().manual_seed(config.pair_seed + 1)
        self.history: list[dict] = []
        self.reference_reward = self._sampled_reward(self.reference)

    @torch.no_grad()
    def _sampled_reward(self, table: torch.Tensor) -> float:
        return self.task.clean_reward(sample(table, 512, self.generator)).mean().item()

    def train_steps(self, n: int) -> dict:
        beta = self.config.beta
        for _ in range(n):
            chosen = sequence_logp(self.policy, self.chosen)
            rejected = sequence_logp(self.policy, self.rejected)
            loss = dpo_loss(chosen, rejected, self.ref_chosen, self.ref_rejected, beta)
            if not torch.isfinite(loss):
                raise ValueError("The DPO loss became NaN: lower the learning rate and reset.")
            self.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            self.optimizer.step()
            margin = dpo_implicit_rewards(chosen, self.ref_chosen, beta) - dpo_implicit_rewards(
                rejected, self.ref_rejected, beta
            )
            metrics = {
                "loss": loss.item(),
                "reward_margin": margin.mean().item(),
                "pair_accuracy": (margin > 0).float().mean().item(),
                "chosen_logp": chosen.mean().item(),
                "rejected_logp": rejected.mean().item(),
                "task_reward": self._sampled_reward(self.policy.detach()),
            }
            self.history.append(metrics)
        return metrics
