"""A policy-gradient sandbox: tabular policies on tasks with a known reward, many seeds at once.

Two tasks, one policy shape. The policy is a table of logits W[seed, position, previous token, next token]:
- "bandit":   one pull of one of K arms; arm k pays means[k] + noise (means = 0, 1/(K-1), ..., 1).
- "sequence": L tokens from a vocabulary of K, each chosen given the previous one; the reward is the fraction of
              positions that match a hidden target sequence (one reward per sequence, as in RLHF), plus noise.

Methods, trained side by side from the same initial policy (uniform) with the same random streams:
REINFORCE (no baseline), REINFORCE with the batch-mean baseline, PPO at several clipping ranges (several update
epochs on each batch), PPO without clipping, and GRPO (group-normalised advantages, clipped, no critic).
Every seed is a slice of one tensor (S, ...), so 100 seeds train in one pass; Adam acts elementwise, so each seed
evolves exactly as it would alone. `SandboxTrainer.train_steps(n)` is the live-training kit's step function.
The formulas are in models/rlhf/policy_gradient.py.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch.nn import functional as F

from models.rlhf.policy_gradient import entropy, grpo_advantages, ppo_clip_loss, reinforce_loss

TASKS = ("bandit", "sequence")
MAX_RATIOS = 4000  # ratio samples kept per epoch for the histograms


@dataclass
class SandboxConfig:
    task: str = "bandit"  # one of TASKS
    n_seeds: int = 100  # independent runs per method, trained together
    n_actions: int = 10  # bandit arms, or the sequence task's vocabulary
    seq_len: int = 4  # tokens per sequence (sequence task only)
    batch_size: int = 16  # samples per seed per iteration
    lr: float = 0.2  # Adam learning rate (high on purpose: it shows what clipping buys)
    update_epochs: int = 4  # PPO / GRPO passes over each batch
    clip_eps: tuple = (0.1, 0.2, 0.3)  # the PPO runs' clipping ranges ε
    group_size: int = 4  # GRPO samples per group (divides batch_size)
    noise: float = 0.5  # standard deviation of the reward noise
    methods: tuple = (
        "reinforce",
        "reinforce_baseline",
        "ppo",
        "ppo_noclip",
        "grpo",
    )  # runs to train
    seed: int = 0  # first seed; runs use one generator seeded with it

    def __post_init__(self):
        if self.task not in TASKS:
            raise ValueError(f"Unknown task {self.task!r}; choose one of {', '.join(TASKS)}.")
        if not 1 <= self.n_seeds <= 2000:
            raise ValueError("Use between 1 and 2000 seeds.")
        if not 2 <= self.n_actions <= 50 or not 1 <= self.seq_len <= 12:
            raise ValueError("Use 2–50 actions and sequences of 1–12 tokens.")
        if not 0 < self.lr <= 10 or self.lr != self.lr:
            raise ValueError(f"The learning rate must lie in (0, 10] (got {self.lr}).")
        if self.batch_size < 2 or self.update_epochs < 1:
            raise ValueError("Use a batch of at least 2 samples and at least 1 update epoch.")
        for eps in self.clip_eps:
            if not 0 < eps < 1:
                raise ValueError(f"The clipping range ε must lie in (0, 1) (got {eps}).")
        if "grpo" in self.methods and (self.group_size < 2 or self.batch_size % self.group_size):
            raise ValueError(
                f"GRPO needs groups of at least 2 samples that divide the batch "
                f"({self.batch_size}); got a group size of {self.group_size}."
            )
        if self.noise < 0:
            raise ValueError("The reward noise cannot be negative.")

    def run_names(self) -> list[str]:
        """One name per trained run: 'ppo ε=0.2' for each ε, the others as named."""
        names = []
        for method in self.methods:
            if method == "ppo":
                names += [f"ppo ε={eps:g}" for eps in self.clip_eps]
            else:
                names.append(method)
        return names


class SandboxTask:
    """The known reward: arm means (bandit) or a hidden target sequence (sequence task)."""

    def __init__(self, config: SandboxConfig, device: str = "cpu"):
        self.config, self.device = config, device
        self.seq_len = 1 if config.task == "bandit" else config.seq_len
        self.means = torch.linspace(0.0, 1.0, config.n_actions, device=device)  # (K,) bandit payouts
        target_gen = torch.Generator().manual_seed(1234)
        self.target = torch.randint(0, config.n_actions, (self.seq_len,), generator=target_gen).to(device)  # (L,)
        self.best_reward = 1.0

    def clean_reward(self, actions: torch.Tensor) -> torch.Tensor:
        """Noise-free reward of each sample; actions (S, B, L) -> (S, B)."""
        if self.config.task == "bandit":
            return self.means[actions[..., 0]]
        return (actions == self.target).float().mean(-1)


def token_logits(table: torch.Tensor, actions: torch.Tensor) -> torch.Tensor:
    """The logits each token was drawn from; table (S, L, K, K), actions (S, B, L) -> (S, B, L, K)."""
    S, B, L = actions.shape
    context = F.pad(actions[..., :-1], (1, 0))  # (S, B, L) the previous token, 0 before the first
    seeds = torch.arange(S, device=actions.device)[:, None, None]  # (S, 1, 1)
    positions = torch.arange(L, device=actions.device)[None, None, :]  # (1, 1, L)
    return table[seeds, positions, context]  # (S, B, L, K)


@torch.no_grad()
def sample(table: torch.Tensor, batch_size: int, generator: torch.Generator) -> torch.Tensor:
    """Sample (S, B, L) token sequences from the tables (S, L, K, K), token by token (Gumbel-max)."""
    S, L, _, K = table.shape
    actions = torch.zeros(S, batch_size, L, dtype=torch.long, device=table.device)
    previous = torch.zeros(S, batch_size, dtype=torch.long, device=table.device)
    for position in range(L):
        logits = table[:, position].gather(1, previous[..., None].expand(S, batch_size, K))
        uniform = torch.rand(S, batch_size, K, generator=generator).to(table.device)
        gumbel = -torch.log(-torch.log(uniform.clamp(1e-12, 1 - 1e-7)))
        actions[..., position] = previous = (logits + gumbel).argmax(-1)
    return actions


class SandboxTrainer:
    """All runs of one config; train_steps(n) does n iterations (sample a batch, update) for every run."""

    def __init__(self, config: SandboxConfig, device: str = "cpu"):
        self.config, self.device = config, device
        self.task = SandboxTask(config, device)
        self.names = config.run_names()
        shape = (config.n_seeds, self.task.seq_len, config.n_actions, config.n_actions)
        self.tables = {name: torch.zeros(shape, device=device, requires_grad=True) for name in self.names}
        self.optimizers = {n: torch.optim.Adam([t], lr=config.lr) for n, t in self.tables.items()}
        # the same random stream for every run: at step 0 they all see the same batch
        self.generators = {n: torch.Generator().manual_seed(config.seed) for n in self.names}
        self.iteration = 0
        self.done = False
        self.reward = {n: [] for n in self.names}  # per iteration: (S,) mean clean reward of the batch
        self.entropy = {n: [] for n in self.names}  # per iteration: mean entropy (nats)
        self.clip_fraction = {n: [] for n in self.names}  # per iteration: mean over epochs and seeds
        self.approx_kl = {n: [] for n in self.names}  # per iteration: last epoch, mean over seeds
        self.seed_entropy = {n: torch.zeros(0) for n in self.names}  # last iteration: (S,) entropy
        self.outside = {n: [] for n in self.names}  # per iteration: share outside [1-ε, 1+ε]
        # last iteration: one (<=MAX_RATIOS,) tensor of ratios per epoch; and the batch most outside the band
        self.ratios = {n: [] for n in self.names}
        self.peak_ratios = {n: [] for n in self.names}
        self.peak_outside, self.peak_iteration = (
            {},
            {},
        )  # that batch's share outside, and its iteration

    def _advantages(self, name: str, rewards: torch.Tensor) -> torch.Tensor:
        """rewards (S, B) -> advantages (S, B) for the run `name`."""
        if name == "reinforce":
            return rewards
        if name == "grpo":
            return grpo_advantages(rewards.reshape(-1), self.config.group_size).reshape(rewards.shape)
        centred = rewards - rewards.mean(1, keepdim=True)
        if name == "reinforce_baseline":
            return centred
        return centred / (rewards.std(1, keepdim=True) + 1e-8)  # PPO: normalised, as CleanRL

    def _clip_eps(self, name: str) -> float | None:
        if name == "ppo_noclip":
            return None
        if name == "grpo":
            return 0.2
        return float(name.split("=")[1])

    def _update(self, name: str) -> None:
        table, optimizer, config = self.tables[name], self.optimizers[name], self.config
        actions = sample(table, config.batch_size, self.generators[name])  # (S, B, L)
        clean = self.task.clean_reward(actions)  # (S, B)
        noise = torch.randn(clean.shape, generator=self.generators[name]).to(self.device)
        advantages = self._advantages(name, clean + config.noise * noise)  # (S, B)
        with torch.no_grad():
            logits = token_logits(table, actions)  # (S, B, L, K)
            logp_old = logits.log_softmax(-1).gather(-1, actions[..., None]).squeeze(-1)  # (S, B, L)
            self.reward[name].append(clean.mean(1).cpu())
            seed_entropy = entropy(logits).mean((1, 2))  # (S,)
            self.entropy[name].append(seed_entropy.mean().item())
            self.seed_entropy[name] = seed_entropy.cpu()
        if name.startswith("reinforce"):
            optimizer.zero_grad(set_to_none=True)
            logp = token_logits(table, actions).log_softmax(-1).gather(-1, actions[..., None])
            # sum over seeds of each seed's mean: every seed's gradient is its own
            loss = reinforce_loss(logp.squeeze(-1).sum(-1), advantages) * config.n_seeds
            loss.backward()
            optimizer.step()
            return
        eps = self._clip_eps(name)
        ratios, fractions, outside = [], [], []
        for _ in range(config.update_epochs):
            logp = token_logits(table, actions).log_softmax(-1).gather(-1, actions[..., None])
            token_adv = advantages[..., None].expand_as(logp_old)  # (S, B, L) one advantage per sequence
            loss, stats = ppo_clip_loss(logp.squeeze(-1), logp_old, token_adv, eps)
            optimizer.zero_grad(set_to_none=True)
            (loss * config.n_seeds).backward()
            optimizer.step()
            fractions.append(stats["clip_fraction"])
            outside.append(((stats["ratio"] - 1).abs() > (eps or 0.2)).float().mean().item())
            flat = stats["ratio"].reshape(-1)
            ratios.append(flat[:MAX_RATIOS].cpu())
        self.ratios[name] = ratios
        if max(outside) >= self.peak_outside.get(name, -1.0):  # keep the batch that left the band most
            self.peak_outside[name], self.peak_iteration[name] = max(outside), self.iteration + 1
            self.peak_ratios[name] = ratios
        self.clip_fraction[name].append(sum(fractions) / len(fractions))
        self.approx_kl[name].append(stats["approx_kl"])
        self.outside[name].append(max(outside))

    def train_steps(self, n: int) -> dict:
        """n iterations of every run; returns each run's mean reward over seeds (for the kit's history)."""
        for _ in range(n):
            for name in self.names:
                self._update(name)
            self.iteration += 1
            for name, table in self.tables.items():
                if not torch.isfinite(table).all():
                    self.done = True
                    raise ValueError(
                        f"The run {name!r} diverged (NaN logits) at iteration {self.iteration}: "
                        "lower the learning rate."
                    )
        return {name: self.reward[name][-1].mean().item() for name in self.names}

    def reward_matrix(self, name: str) -> torch.Tensor:
        """(iterations, S) mean clean reward per iteration and seed."""
        return torch.stack(self.reward[name]) if self.reward[name] else torch.zeros(0, 1)

    @torch.no_grad()
    def stuck_fraction(self, name: str, window: int = 5) -> float:
        """Share of seeds stuck on a bad answer: reward over the last iterations < best - 0.1, entropy ~ 0."""
        rewards = self.reward_matrix(name)[-window:]
        if not len(rewards):
            return 0.0
        certain = self.seed_entropy[name] < 0.05  # (S,) the policy no longer explores
        bad = rewards.mean(0) < self.task.best_reward - 0.1
        return (bad & certain).float().mean().item()
