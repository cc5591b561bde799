"""The known-rank sandbox: LoRA at several ranks learning an update whose rank k we chose.

A frozen random layer W0 (d x d) must become W0 + ΔW*, where ΔW* = U diag(σ) V^T has rank k. Each run trains
the update on the same samples x ~ N(0, I), y = (W0 + ΔW*) x + noise:

- LoRA at rank r: ΔW = s·B·A with A (r, d), B (d, r), s = alpha/r (or alpha/sqrt(r) with rsLoRA);
- full fine-tuning: ΔW is a free d x d matrix.

Because x ~ N(0, I), the held-out error of any ΔW is exactly ||ΔW - ΔW*||_F² (plus the noise), so we report it
relative to ||ΔW*||_F². No rank-r matrix can do better than the Eckart–Young floor
sum_{i>r} σ_i² / sum σ_i² (the tail of the singular values: https://en.wikipedia.org/wiki/Low-rank_approximation),
which is zero once r ≥ k: the curves plateau there. With few noisy samples a large rank also fits the noise, and
the held-out error against r turns U-shaped: the rank acts as a regulariser.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import torch
from torch import nn

from models.lora.adapters import LoRALinear


@dataclass
class SandboxConfig:
    d: int = 64  # width of the frozen layer (in = out = d)
    true_rank: int = 4  # rank k of the target update ΔW*
    ranks: tuple[int, ...] = (1, 2, 4, 8, 16, 64)  # LoRA ranks trained side by side
    full: bool = True  # also train a full d x d update
    n_train: int = 512  # training samples (few + noisy: watch the held-out error)
    noise: float = 0.0  # std of the noise on the targets, relative to the signal's
    alpha: float = 16.0  # LoRA scale numerator (the update is multiplied by alpha/r)
    rslora: bool = False  # alpha/sqrt(r) instead of alpha/r
    lr: float = 0.01  # learning rate, the same for every run
    optimizer: str = "adam"  # "adam" or "sgd" (with SGD, alpha/r makes high ranks learn slower)
    seed: int = 0  # the layer, the target and the samples

    def __post_init__(self):
        self.ranks = tuple(sorted({int(r) for r in self.ranks}))
        if not 2 <= self.d <= 512:
            raise ValueError(f"The width d must be between 2 and 512 (got {self.d}).")
        if not 1 <= self.true_rank <= self.d:
            raise ValueError(f"The target rank k must be between 1 and d={self.d}.")
        if not self.ranks and not self.full:
            raise ValueError("Pick at least one rank (or full fine-tuning).")
        bad = [r for r in self.ranks if not 1 <= r <= self.d]
        if bad:
            raise ValueError(f"Ranks must be between 1 and the layer's width d={self.d}: {bad}.")
        if self.n_train < 2:
            raise ValueError("Use at least 2 training samples.")
        if not self.alpha > 0:
            raise ValueError(f"alpha must be positive (got {self.alpha}).")
        if not self.lr > 0:
            raise ValueError(f"The learning rate must be positive (got {self.lr}).")
        if self.optimizer not in ("adam", "sgd"):
            raise ValueError(f"optimizer must be 'adam' or 'sgd' (got {self.optimizer!r}).")
        if self.noise < 0:
            raise ValueError("The noise cannot be negative.")


def run_name(rank: int | None) -> str:
    return "full" if rank is None else f"r={rank}"


def eckart_young_floor(target: torch.Tensor, rank: int) -> float:
    """Relative error of the best rank-r approximation: sum_{i>r} σ_i² / sum σ_i² (from the SVD)."""
    s2 = torch.linalg.svdvals(target.double()).pow(2)
    floor = (s2[rank:].sum() / s2.sum()).item()
    return 0.0 if floor < 1e-12 else floor  # a float32 rank-k matrix leaves ~1e-15 beyond σ_k: that is 0


class SandboxTrainer:
    """Trains every rank (and full fine-tuning) on the same data, one Adam step each per step."""

    def __init__(self, config: SandboxConfig, device: str = "cpu"):
        self.config, self.device = config, device
        c = config
        g = torch.Generator().manual_seed(c.seed)
        self.w0 = torch.randn(c.d, c.d, generator=g) / c.d**0.5  # frozen layer (out, in)
        u, _ = torch.linalg.qr(torch.randn(c.d, c.true_rank, generator=g))  # (d, k) orthonormal
        v, _ = torch.linalg.qr(torch.randn(c.d, c.true_rank, generator=g))
        sigma = torch.linspace(1.0, 0.4, c.true_rank)  # distinct singular values: a visible floor
        self.target = (u * sigma) @ v.T  # ΔW*: (d, d), rank k
        self.x = torch.randn(c.n_train, c.d, generator=g)  # (n, d)
        signal = self.x @ self.target.T  # (n, d)
        noise = torch.randn(signal.shape, generator=g) * c.noise * signal.std()
        self.y = self.x @ self.w0.T + signal + noise
        self.signal_power = signal.pow(2).mean().item()
        self.x, self.y = self.x.to(device), self.y.to(device)
        self.runs: dict[str, nn.Module] = {}
        torch.manual_seed(c.seed)  # LoRA's A init (kaiming), as PEFT draws it
        for r in c.ranks:
            base = nn.Linear(c.d, c.d, bias=False)
            base.weight.data.copy_(self.w0)
            self.runs[run_name(r)] = LoRALinear(base, r, c.alpha, rslora=c.rslora).to(device)
        if c.full:
            self.runs["full"] = _FullUpdate(self.w0).to(device)
        optimizer = torch.optim.Adam if c.optimizer == "adam" else torch.optim.SGD
        self.optimizers = {
            name: optimizer([p for p in m.parameters() if p.requires_grad], lr=c.lr) for name, m in self.runs.items()
        }
        self.step = 0
        self.done = False

    def delta(self, name: str) -> torch.Tensor:
        return self.runs[name].delta_weight().detach().cpu()

    def heldout_error(self, name: str) -> float:
        """||ΔW - ΔW*||² / ||ΔW*||²: the expected clean error on fresh x ~ N(0, I), relative."""
        return ((self.delta(name) - self.target).pow(2).sum() / self.target.pow(2).sum()).item()

    def floors(self) -> dict[int, float]:
        """{r: Eckart–Young floor} for r = 1..d, from one SVD (the tails of σ², as `eckart_young_floor`)."""
        s2 = torch.linalg.svdvals(self.target.double()).pow(2)  # (d,)
        tails = (s2.flip(0).cumsum(0).flip(0) / s2.sum()).tolist() + [0.0]  # tails[r] = Σ_{i>r} σ_i² / Σ σ_i²
        return {r: 0.0 if tails[r] < 1e-12 else tails[r] for r in range(1, self.config.d + 1)}

    def train_steps(self, n: int) -> dict:
        started = time.perf_counter()
        metrics = {}
        for name, module in self.runs.items():
            for _ in range(n):
                loss = (module(self.x) - self.y).pow(2).mean() / self.signal_power  # relative MSE
                self.optimizers[name].zero_grad(set_to_none=True)
                loss.backward()
                self.optimizers[name].step()
            if not torch.isfinite(loss) or loss.item() > 1e6:  # relative error: it starts near 1
                self.done = True
                raise FloatingPointError(
                    f"The loss of {name} diverged ({loss.item():.3g}) by step {self.step + n}: "
                    "lower the learning rate and reset."
                )
            metrics[f"train {name}"] = loss.item()
            metrics[f"heldout {name}"] = self.heldout_error(name)
        self.step += n
        metrics["seconds"] = time.perf_counter() - started
        return metrics

    def summary(self) -> list[dict]:
        """One row per run: rank, trained parameters, train and held-out error, the Eckart–Young floor."""
        rows = []
        for name, module in self.runs.items():
            rank = getattr(module, "r", None)
            trained = sum(p.numel() for p in module.parameters() if p.requires_grad)
            with torch.no_grad():
                train = ((module(self.x) - self.y).pow(2).mean() / self.signal_power).item()
            rows.append(
                dict(
                    run=name,
                    rank=rank if rank is not None else self.config.d,
                    trained_parameters=trained,
                    train_error=train,
                    heldout_error=self.heldout_error(name),
                    eckart_young_floor=eckart_young_floor(self.target, rank or self.config.d),
                )
            )
        return rows


def train_to(config: SandboxConfig, steps: int, every: int = 5) -> tuple[SandboxTrainer, list[dict]]:
    """A trainer after `steps` steps and its metrics every `every` steps, rows {"step", **metrics} as the live
    run records them (the result is the same whatever the chunks: full-batch steps, one seed)."""
    trainer = SandboxTrainer(config)
    history = []
    while trainer.step < steps:
        n = min(every, steps - trainer.step)
        history.append({"step": trainer.step + n, **trainer.train_steps(n)})
    return trainer, history


class _FullUpdate(nn.Module):
    """Full fine-tuning of the layer: W0 + ΔW with ΔW a free matrix starting at zero."""

    def __init__(self, w0: torch.Tensor):
        super().__init__()
        self.register_buffer("w0", w0.clone())
        self.update = nn.Parameter(torch.zeros_like(w0))

    def delta_weight(self) -> torch.Tensor:
        return self.update

    def forward(self, x):
        return x @ (self.w0 + self.update).T
