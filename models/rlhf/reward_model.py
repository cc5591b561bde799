"""A reward model learned from preference pairs with the Bradley–Terry loss: InstructGPT's step before PPO.

InstructGPT (Ouyang et al. 2022, https://arxiv.org/abs/2203.02155, eq. 1) fits a reward r(y) to human comparisons
with the Bradley–Terry model (Bradley & Terry 1952): P(y_w preferred to y_l) = sigmoid(r(y_w) - r(y_l)), so
      loss = -log sigmoid(r(y_w) - r(y_l))        (averaged over pairs; TRL's RewardTrainer)
Only differences of r are learned: r is defined up to a constant. PPO then maximises this learned reward.

DPO (Rafailov et al. 2023) skips this step: its policy *is* a reward model, r(y) = beta * (log pi(y) - log ref(y))
(the implicit reward, up to a constant per prompt). Both are fitted to the same pairs in
models/rlhf/dpo_sandbox.py, so they can be compared: which ranks unseen pairs right, and how well each follows
the task's true reward over every possible sequence.

The reward model here is linear on the sandbox's sequence task: r(y) = sum_t W[t, y_t] (one weight per position
and token). The true reward (the share of positions that match a hidden target) has this form, so a perfect fit
exists; what limits it is the data (pairs sampled from the reference, ties dropped).
"""

from __future__ import annotations

import itertools

import torch
from torch.nn import functional as F


def bradley_terry_loss(reward_chosen: torch.Tensor, reward_rejected: torch.Tensor) -> torch.Tensor:
    """-log sigmoid(r_chosen - r_rejected), averaged over pairs; inputs (N,)."""
    return -F.logsigmoid(reward_chosen - reward_rejected).mean()


class LinearRewardModel(torch.nn.Module):
    """r(y) = sum_t W[t, y_t]; W starts at 0 (every sequence scores 0: no preference yet)."""

    def __init__(self, length: int, vocab: int):
        super().__init__()
        self.weight = torch.nn.Parameter(torch.zeros(length, vocab))  # (L, K)

    def forward(self, sequences: torch.Tensor) -> torch.Tensor:
        """sequences (N, L) -> rewards (N,)."""
        positions = torch.arange(sequences.shape[1], device=sequences.device)  # (L,)
        return self.weight[positions, sequences].sum(-1)


def all_sequences(vocab: int, length: int, device: str = "cpu") -> torch.Tensor:
    """Every sequence of `length` tokens from `vocab`: (vocab ** length, length)."""
    return torch.tensor(list(itertools.product(range(vocab), repeat=length)), device=device)


def pearson(x: torch.Tensor, y: torch.Tensor) -> float:
    """Pearson correlation of two (N,) tensors (0 when one is constant)."""
    x, y = x - x.mean(), y - y.mean()
    denominator = (x.norm() * y.norm()).item()
    return (x @ y).item() / denominator if denominator > 0 else 0.0
