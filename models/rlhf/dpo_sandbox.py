"""Preference learning on the sandbox's sequence task: a Bradley–Terry reward model and DPO, on the same pairs.

Pairs of sequences are sampled once from a fixed reference policy (random logits); in each pair the one with the
higher reward is "chosen" (ties are dropped); a quarter as many pairs are held out. Two learners fit them, one Adam
step each per `train_steps` step:
- InstructGPT's step 2: a reward model r(y) trained with the Bradley–Terry loss -log sigmoid(r(y_w) - r(y_l))
  (models/rlhf/reward_model.py); PPO would then maximise r;
- DPO (Rafailov et al. 2023, models/rlhf/policy_gradient.dpo_loss): the policy starts as the reference and minimises
  DPO's loss, with no reward model and no RL loop; its implicit reward is beta * (log pi(y) - log ref(y)).
Tracked: the DPO loss, its implicit reward margin, chosen and rejected log-probabilities, what the policy now earns
on the task when sampled; and for both rewards (learned and implicit) the share of held-out pairs ranked right
and the correlation with the true reward over every possible sequence.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from models.rlhf.pg_sandbox import SandboxConfig, SandboxTask, sample, token_logits
from models.rlhf.policy_gradient import dpo_implicit_rewards, dpo_loss
from models.rlhf.reward_model import LinearRewardModel, all_sequences, bradley_terry_loss, pearson


@dataclass
class DPOConfig:
    beta: float = 0.1  # DPO's β: small = the policy may move far from the reference
    n_pairs: int = 256  # preference pairs sampled from the reference
    dpo_lr: float = 0.05  # Adam learning rate on the policy's logits and on the reward model's weights
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


def preference_pairs(task: SandboxTask, reference: torch.Tensor, n: int, generator: torch.Generator):
    """n pairs sampled from the reference, the higher true reward chosen, ties dropped: (chosen, rejected),
    each (1, M, L) with M <= n."""
    first, second = sample(reference, n, generator), sample(reference, n, generator)  # (1, n, L)
    r1, r2 = task.clean_reward(first)[0], task.clean_reward(second)[0]  # (n,)
    keep = r1 != r2
    if keep.sum() < 2:
        raise ValueError("Almost every pair is a tie: use more pairs.")
    chosen = torch.where((r1 > r2)[:, None], first[0], second[0])[keep][None]
    rejected = torch.where((r1 > r2)[:, None], second[0], first[0])[keep][None]
    return chosen, rejected


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
        self.chosen, self.rejected = preference_pairs(self.task, self.reference, config.n_pairs, gen)  # (1, M, L)
        self.heldout_chosen, self.heldout_rejected = preference_pairs(
            self.task, self.reference, max(16, config.n_pairs // 4), gen
        )
        with torch.no_grad():
            self.ref_chosen = sequence_logp(self.reference, self.chosen)  # (M,)
            self.ref_rejected = sequence_logp(self.reference, self.rejected)
        self.reward_model = LinearRewardModel(config.length, config.vocab).to(device)
        self.rm_optimizer = torch.optim.Adam(self.reward_model.parameters(), lr=config.dpo_lr)
        self.sequences = all_sequences(config.vocab, config.length, device)[None]  # (1, K^L, L)
        self.true_reward = self.task.clean_reward(self.sequences)[0]  # (K^L,)
        self.generator = torch.Generator().manual_seed(config.pair_seed + 1)
        self.history: list[dict] = []
        self.reference_reward = self._sampled_reward(self.reference)

    @torch.no_grad()
    def _sampled_reward(self, table: torch.Tensor) -> float:
        return self.task.clean_reward(sample(table, 512, self.generator)).mean().item()

    @torch.no_grad()
    def implicit_reward(self, sequences: torch.Tensor) -> torch.Tensor:
        """DPO's implicit reward beta * (log pi(y) - log ref(y)); sequences (1, N, L) -> (N,)."""
        policy_logp = sequence_logp(self.policy.detach(), sequences)
        return dpo_implicit_rewards(policy_logp, sequence_logp(self.reference, sequences), self.config.beta)

    @torch.no_grad()
    def learned_reward(self, sequences: torch.Tensor) -> torch.Tensor:
        """The Bradley–Terry reward model's r(y); sequences (1, N, L) -> (N,)."""
        return self.reward_model(sequences[0])

    def _reward_model_step(self) -> dict:
        loss = bradley_terry_loss(self.reward_model(self.chosen[0]), self.reward_model(self.rejected[0]))
        self.rm_optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.rm_optimizer.step()
        return {"rm_loss": loss.item()}

    def heldout_accuracy(self, reward_fn) -> float:
        """Share of held-out pairs whose chosen sequence gets the higher reward."""
        return (reward_fn(self.heldout_chosen) > reward_fn(self.heldout_rejected)).float().mean().item()

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
                **self._reward_model_step(),
                "rm_heldout_accuracy": self.heldout_accuracy(self.learned_reward),
                "dpo_heldout_accuracy": self.heldout_accuracy(self.implicit_reward),
                "rm_correlation": pearson(self.learned_reward(self.sequences), self.true_reward),
                "dpo_correlation": pearson(self.implicit_reward(self.sequences), self.true_reward),
            }
            self.history.append(metrics)
        return metrics
