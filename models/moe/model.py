"""Mixture-of-Experts layers: a router sends each token to k of E expert MLPs, and what keeps the loads even.

    logits = x · W_gateᵀ                       (N, E)   one score per token and expert
    softmax router (Mixtral):  p = softmax(logits); pick top-k of p; weights = those p renormalised to sum 1
    sigmoid router (DeepSeek-V3): s = sigmoid(logits); pick top-k of s + b; weights = those s renormalised
    noisy top-k (Shazeer et al. 2017): logits + ε·softplus(x·W_noise) while training, then as softmax
    hash (Roller et al. 2021): expert = hash(token id) — a fixed, unlearned baseline
    expert choice (Zhou et al. 2022): every expert picks its C best tokens (loads equal by construction)
    y = Σ_{chosen e} weight_e · Expert_e(x)  (+ Σ_s Shared_s(x): shared experts that every token uses, DeepSeekMoE)

Expert size. In Switch Transformer and Mixtral every expert is a full-size FFN (Mixtral-8x7B: 8 experts as wide as
Mistral-7B's MLP, 2 per token). DeepSeekMoE (Dai et al. 2024) splits each into m narrower ones (width F/m) and
routes to m·k of them, which keeps the parameters and the compute but multiplies the combinations a token can
take (C(8,2) = 28 against C(16,4) = 1820 for m = 2); K_s of the m·k slots become shared experts that every token
passes through, so the routed ones need not all relearn common knowledge (DeepSeek-V3: 256 routed of width 2048,
8 per token, plus 1 shared). Here: `d_expert` is the width of every expert, `n_shared` the shared ones.

Balancing. Nothing stops a router from sending most tokens to the experts that happen to be best early on: they
get more gradient, get better, get more tokens (collapse). Two fixes:
- auxiliary loss (Switch Transformer, Fedus et al. 2021, eq. 4): aux = E · Σ_i f_i · P_i, with f_i the share of
  routed assignments that went to expert i and P_i its mean router probability; minimal (1) when both are 1/E.
- auxiliary-loss-free bias (DeepSeek-V3, Liu et al. 2024, §2.1.2): a per-expert bias b added to the scores for the
  *selection only*; after each step b_i += γ·sign(mean load − load_i). The weights never see b.
Capacity (GShard, Lepikhin et al. 2020): each expert takes at most C = ⌈factor · N·k / E⌉ assignments per batch;
first choices are served before second choices, in token order; the rest are dropped (the residual carries them).

Papers: https://arxiv.org/abs/1701.06538 · https://arxiv.org/abs/2006.16668 · https://arxiv.org/abs/2101.03961 ·
https://arxiv.org/abs/2106.04426 · https://arxiv.org/abs/2202.09368 · https://arxiv.org/abs/2401.04088 ·
https://arxiv.org/abs/2401.06066 · https://arxiv.org/abs/2412.19437
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

ROUTERS = ("softmax", "sigmoid", "noisy", "hash", "expert_choice")
BALANCES = ("none", "aux", "bias")


@dataclass
class MoEConfig:
    d_model: int = 64  # width of the residual stream
    n_layers: int = 2  # transformer blocks, each with one MoE layer
    n_heads: int = 4  # attention heads per block
    n_experts: int = 8  # routed experts E per MoE layer
    top_k: int = 2  # experts per token k
    d_expert: int = 128  # hidden width of each expert's SwiGLU MLP, routed and shared (fine-grained: smaller)
    router: str = "softmax"  # one of ROUTERS
    capacity_factor: float | None = None  # None: no limit; else C = ceil(factor * N * k / E)
    balance: str = "none"  # one of BALANCES: nothing, the auxiliary loss, or the selection bias
    aux_loss_coef: float = 1e-2  # weight of the auxiliary loss (summed over layers) when balance="aux"
    bias_update_rate: float = 1e-2  # γ of the bias update (DeepSeek-V3: 1e-3 over far more steps)
    n_shared: int = 0  # shared experts every token passes through, unweighted (DeepSeekMoE)
    router_init_std: float = 0.02  # std of the router's initial weights (near-even loads at step 0)
    context: int = 64  # characters per training sequence
    batch_size: int = 16  # sequences per step
    lr: float = 3e-3  # AdamW learning rate
    vocab_size: int = 128  # characters (the trainer sets it from the text)

    def __post_init__(self):
        if self.router not in ROUTERS:
            raise ValueError(f"Unknown router {self.router!r}; choose one of {', '.join(ROUTERS)}.")
        if self.balance not in BALANCES:
            raise ValueError(f"Unknown balancing {self.balance!r}; choose one of {', '.join(BALANCES)}.")
        if self.n_experts < 2:
            raise ValueError("With one expert there is nothing to route: use at least 2 experts.")
        if not 1 <= self.top_k <= self.n_experts:
            raise ValueError(
                f"top-k must be between 1 and the number of experts ({self.n_experts}); "
                f"it is {self.top_k}. Lower top-k or add experts."
            )
        if self.capacity_factor is not None and not self.capacity_factor > 0:
            raise ValueError("The capacity factor must be above 0 (1.0 = exactly the fair share).")
        if self.bias_update_rate < 0:
            raise ValueError("The bias update rate must be 0 or more (DeepSeek-V3 used 0.001).")
        if self.aux_loss_coef < 0:
            raise ValueError("The auxiliary-loss coefficient must be 0 or more (Switch used 0.01).")
        if self.n_shared < 0 or self.d_expert < 1 or self.n_layers < 1 or self.context < 2:
            raise ValueError("Shared experts ≥ 0, expert width ≥ 1, layers ≥ 1 and context ≥ 2, please.")
        if self.d_model % self.n_heads:
            raise ValueError(f"d_model ({self.d_model}) must be divisible by the heads ({self.n_heads}).")


@dataclass
class Routing:
    """What one MoE layer did with N tokens (all tensors detached from nothing: aux_loss keeps its graph)."""

    logits: torch.Tensor  # (N, E) router logits
    probs: torch.Tensor  # (N, E) softmax probabilities (sigmoid scores for the sigmoid router)
    topk_idx: torch.Tensor  # (N, k) chosen experts, best first
    topk_weights: torch.Tensor  # (N, k) weights that mix the chosen experts' outputs
    load: torch.Tensor  # (E,) share of the N·k assignments each expert was chosen for (sums to 1)
    dropped: torch.Tensor  # (N, k) True where the expert was full (capacity) and the assignment was dropped
    aux_loss: torch.Tensor  # () Switch balancing loss of this layer (1 when perfectly even)


def load_balancing_loss(probs: torch.Tensor, topk_idx: torch.Tensor, n_experts: int) -> torch.Tensor:
    """Switch Transformer eq. 4: E · Σ_i f_i · P_i. probs (N, E), topk_idx (N, k) -> ().

    f_i = share of the N·k assignments routed to i (no gradient), P_i = mean of the normalised scores.
    transformers' `load_balancing_loss_func` counts f over tokens rather than assignments: it is k times this.
    """
    counts = torch.bincount(topk_idx.reshape(-1), minlength=n_experts).to(probs.dtype)  # (E,)
    f = counts / topk_idx.numel()
    p = (probs / probs.sum(-1, keepdim=True)).mean(0)  # (E,) sigmoid scores normalised like DeepSeek-V3
    return n_experts * torch.sum(f * p)


def choices_changed_by_bias(probs: torch.Tensor, topk_idx: torch.Tensor) -> torch.Tensor:
    """(N, E) scores, (N, k) experts chosen with the bias -> (N,) True where top-k of the scores alone differs."""
    plain = torch.topk(probs, topk_idx.shape[-1], dim=-1).indices.sort(-1).values
    return (plain != topk_idx.sort(-1).values).any(-1)


@torch.no_grad()
def update_router_bias(bias: torch.Tensor, load: torch.Tensor, rate: float) -> torch.Tensor:
    """DeepSeek-V3's auxiliary-loss-free update, in place: overloaded experts down by γ, underloaded up by γ."""
    bias += rate * torch.sign(load.mean() - load)
    return bias


def over_capacity(topk_idx: torch.Tensor, n_experts: int, capacity: int) -> torch.Tensor:
    """(N, k) -> (N, k) bool: assignments beyond an expert's capacity (first choices first, then token order)."""
    n, k = topk_idx.shape
    slot_major = topk_idx.t().reshape(-1)  # (k·N,) all first choices, then all second choices
    onehot = F.one_hot(slot_major, n_experts)  # (k·N, E)
    position = (onehot.cumsum(0) * onehot).sum(-1) - 1  # (k·N,) place in its expert's queue
    return (position >= capacity).reshape(k, n).t()


class Experts(nn.Module):
    """E SwiGLU MLPs stored as 3D weights; grouped dispatch (sort assignments by expert, one matmul each)."""

    def __init__(self, n_experts: int, d_model: int, d_hidden: int):
        super().__init__()
        self.w_gate = nn.Parameter(torch.randn(n_experts, d_model, d_hidden) / math.sqrt(d_model))
        self.w_up = nn.Parameter(torch.randn(n_experts, d_model, d_hidden) / math.sqrt(d_model))
        self.w_down = nn.Parameter(torch.randn(n_experts, d_hidden, d_model) / math.sqrt(d_hidden))

    def forward(self, x, token, expert, weight):
        """x (N, D); token, expert, weight (A,) one row per kept assignment -> (N, D)."""
        order = torch.argsort(expert, stable=True)
        counts = torch.bincount(expert, minlength=self.w_gate.shape[0]).tolist()
        y = torch.zeros_like(x)
        groups = zip(token[order].split(counts), weight[order].split(counts))
        for e, (tokens, weights) in enumerate(groups):  # the assignments of expert e
            if len(tokens):
                xs = x[tokens]  # (A_e, D)
                hidden = F.silu(xs @ self.w_gate[e]) * (xs @ self.w_up[e])  # (A_e, F)
                y.index_add_(0, tokens, (hidden @ self.w_down[e]) * weights[:, None].to(x.dtype))
        return y


class MoELayer(nn.Module):
    """Router + experts (+ shared experts). forward(x (..., D), token_ids) -> (y (..., D), Routing)."""

    def __init__(self, config: MoEConfig):
        super().__init__()
        self.config = config
        E, D = config.n_experts, config.d_model
        self.gate = nn.Linear(D, E, bias=False)
        nn.init.normal_(self.gate.weight, std=config.router_init_std)
        self.experts = Experts(E, D, config.d_expert)
        self.shared = Experts(config.n_shared, D, config.d_expert) if config.n_shared else None
        self.noise = nn.Linear(D, E, bias=False) if config.router == "noisy" else None
        if self.noise is not None:
            nn.init.zeros_(self.noise.weight)
        self.register_buffer("bias", torch.zeros(E))  # selection-only bias (DeepSeek-V3)

    def forward(self, x, token_ids=None):
        shape, c = x.shape, self.config
        x = x.reshape(-1, shape[-1])  # (N, D)
        n, E, k = x.shape[0], c.n_experts, c.top_k
        logits = self.gate(x)  # (N, E)
        if c.router == "expert_choice":
            probs, idx, weights, token, expert, kept = self._expert_choice(logits)
            dropped = weights == 0  # (N, k) slots no expert filled
        else:
            probs, idx, weights = self._token_choice(x, logits, token_ids)
            dropped = torch.zeros_like(idx, dtype=torch.bool)
            if c.capacity_factor is not None:
                dropped = over_capacity(idx, E, math.ceil(c.capacity_factor * n * k / E))
            keep = ~dropped.reshape(-1)
            token = torch.arange(n, device=x.device).repeat_interleave(k)[keep]
            expert, kept = idx.reshape(-1)[keep], weights.reshape(-1)[keep]
        y = self.experts(x, token, expert, kept)
        if self.shared is not None:
            every = torch.arange(n, device=x.device).repeat_interleave(c.n_shared)
            which = torch.arange(c.n_shared, device=x.device).repeat(n)
            y = y + self.shared(x, every, which, torch.ones_like(every, dtype=x.dtype))
        chosen = expert if c.router == "expert_choice" else idx.reshape(-1)  # the router's choices
        load = torch.bincount(chosen, minlength=E).float() / max(1, chosen.numel())
        aux = load_balancing_loss(probs, idx, E)
        return y.reshape(shape), Routing(logits, probs, idx, weights, load, dropped, aux)

    def _token_choice(self, x, logits, token_ids):
        """Each token picks k experts. -> probs (N, E), topk_idx (N, k), topk_weights (N, k)."""
        c = self.config
        if c.router == "hash":
            if token_ids is None:
                raise ValueError("Hash routing needs the token ids.")
            first = (token_ids.reshape(-1, 1) * 2654435761) % (2**31) % c.n_experts  # (N, 1)
            idx = (first + torch.arange(c.top_k, device=x.device)) % c.n_experts  # (N, k) distinct
            weights = torch.full(idx.shape, 1.0 / c.top_k, device=x.device)
            return logits.softmax(-1), idx, weights
        if c.router == "noisy" and self.training:  # H = logits + ε·softplus(x·W_noise)
            logits = logits + torch.randn_like(logits) * F.softplus(self.noise(x))
        probs = logits.sigmoid() if c.router == "sigmoid" else logits.float().softmax(-1)  # (N, E)
        idx = torch.topk(probs + self.bias, c.top_k, dim=-1).indices  # selection sees the bias
        weights = probs.gather(1, idx)  # the weights do not
        return probs, idx, weights / weights.sum(-1, keepdim=True)

    def _expert_choice(self, logits):
        """Each expert picks its C = ⌈factor·N·k/E⌉ best tokens (factor 1 when no capacity is set)."""
        c, (n, E) = self.config, logits.shape
        probs = logits.softmax(-1)  # (N, E)
        capacity = min(n, math.ceil((c.capacity_factor or 1.0) * n * c.top_k / E))
        gate, token = torch.topk(probs.t(), capacity, dim=-1)  # (E, C) each expert's tokens
        expert = torch.arange(E, device=logits.device).repeat_interleave(capacity)
        token, gate = token.reshape(-1), gate.reshape(-1)
        dense = torch.zeros_like(probs).index_put((token, expert), gate)  # (N, E) for display
        weights, idx = torch.topk(dense, c.top_k, dim=-1)  # (N, k) the experts that took it
        return probs, idx, weights, token, expert, gate


# ---------------------------------------------------------------------- a tiny MoE language model
class Block(nn.Module):
    """x + causal attention(LN(x)), then x + MoE(LN(x)); returns the layer's Routing too."""

    def __init__(self, config: MoEConfig):
        super().__init__()
        self.n_heads = config.n_heads
        self.ln_attn, self.ln_moe = nn.LayerNorm(config.d_model), nn.LayerNorm(config.d_model)
        self.qkv = nn.Linear(config.d_model, 3 * config.d_model)
        self.proj = nn.Linear(config.d_model, config.d_model)
        self.moe = MoELayer(config)

    def forward(self, x, token_ids):
        B, T, D = x.shape
        q, k, v = self.qkv(self.ln_attn(x)).split(D, dim=-1)
        q, k, v = (t.view(B, T, self.n_heads, -1).transpose(1, 2) for t in (q, k, v))  # (B, h, T, d)
        att = F.scaled_dot_product_attention(q, k, v, is_causal=True)  # (B, h, T, d)
        x = x + self.proj(att.transpose(1, 2).reshape(B, T, D))
        out, routing = self.moe(self.ln_moe(x), token_ids)
        return x + out, routing


class TinyMoELM(nn.Module):
    """A character-level GPT whose MLPs are MoE layers. forward(ids (B, T)) -> (logits (B, T, V), [Routing])."""

    def __init__(self, config: MoEConfig):
        super().__init__()
        self.config = config
        self.tok = nn.Embedding(config.vocab_size, config.d_model)
        self.pos = nn.Embedding(config.context, config.d_model)
        self.blocks = nn.ModuleList(Block(config) for _ in range(config.n_layers))
        self.ln_f = nn.LayerNorm(config.d_model)
        self.head = nn.Linear(config.d_model, config.vocab_size)

    def forward(self, ids):
        x = self.tok(ids) + self.pos(torch.arange(ids.shape[1], device=ids.device))  # (B, T, D)
        routings = []
        for block in self.blocks:
            x, routing = block(x, ids)
            routings.append(routing)
        return self.head(self.ln_f(x)), routings


def load_measures(load: torch.Tensor) -> dict[str, float]:
    """Balance of one load vector (E,) summing to 1: coefficient of variation, max share, dead experts."""
    E = load.numel()
    return {
        "load_cv": float(load.std(unbiased=False) / load.mean()),
        "max_share": float(load.max()),
        "dead_experts": float((load < 0.1 / E).sum()),  # under a tenth of the fair share 1/E
    }


class MoETrainer:
    """Trains a TinyMoELM on next-character prediction. train_steps(n) -> metrics; .loads (steps, layers, E)."""

    def __init__(self, text: str, config: MoEConfig, seed: int = 0, device: str = "cpu"):
        if len(set(text)) < 2:
            raise ValueError("The text needs at least two different characters to learn anything.")
        if len(text) < config.context + 2:
            raise ValueError(f"The text has {len(text)} characters; a training window needs {config.context + 2}.")
        codes = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)  # a code point each
        alphabet, ids = np.unique(codes, return_inverse=True)  # sorted like sorted(set(text))
        self.chars = [chr(c) for c in alphabet]
        self.stoi = {ch: i for i, ch in enumerate(self.chars)}
        self.config = MoEConfig(**{**config.__dict__, "vocab_size": len(self.chars)})
        self.device = device
        self.data = torch.from_numpy(ids.astype(np.int64)).to(device)  # (chars,)
        torch.manual_seed(seed)
        self.model = TinyMoELM(self.config).to(device)
        self._optimizer = None  # made on the first step: a process's first AdamW imports torch._dynamo (2-4 s)
        self.generator = torch.Generator().manual_seed(seed)
        self.steps = 0
        self.load_steps: list[torch.Tensor] = []  # per step (layers, E), on the CPU
        self.dropped: list[float] = []  # per step: share of assignments dropped (mean over layers)
        self.losses: list[float] = []  # per step: next-character cross-entropy

    @property
    def optimizer(self) -> torch.optim.Optimizer:
        if self._optimizer is None:
            self._optimizer = torch.optim.AdamW(self.model.parameters(), lr=self.config.lr)
        return self._optimizer

    def batch(self):
        c = self.config
        start = torch.randint(0, len(self.data) - c.context - 1, (c.batch_size,), generator=self.generator)
        rows = start[:, None] + torch.arange(c.context + 1)  # (B, T+1)
        chunk = self.data[rows.to(self.data.device)]
        return chunk[:, :-1], chunk[:, 1:]

    def train_steps(self, n: int) -> dict[str, float]:
        c, model = self.config, self.model
        model.train()
        for _ in range(n):
            ids, targets = self.batch()
            logits, routings = model(ids)
            loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1))
            aux = torch.stack([r.aux_loss for r in routings]).sum()
            total = loss + c.aux_loss_coef * aux if c.balance == "aux" else loss
            self.optimizer.zero_grad(set_to_none=True)
            total.backward()
            self.optimizer.step()
            if c.balance == "bias":
                for block, routing in zip(model.blocks, routings):
                    update_router_bias(block.moe.bias, routing.load, c.bias_update_rate)
            self.steps += 1
            self.losses.append(float(loss.detach()))
            self.load_steps.append(torch.stack([r.load for r in routings]).cpu())
            self.dropped.append(float(torch.stack([r.dropped.float().mean() for r in routings]).mean()))
        measures = [load_measures(load) for load in self.load_steps[-1]]  # one per layer
        return {
            "loss": float(loss.detach()),
            "aux_loss": float(aux.detach()) / c.n_layers,  # mean per layer: 1.0 is perfectly even
            "load_cv": max(m["load_cv"] for m in measures),  # the worst layer
            "max_share": max(m["max_share"] for m in measures),
            "dead_experts": sum(m["dead_experts"] for m in measures),
            "dropped": self.dropped[-1],
        }

    def recent_measures(self, window: int = 10) -> dict[str, float]:
        """Balance of the mean load of the last `window` steps, worst layer (what the page's table shows)."""
        recent = self.loads[-window:].mean(0)  # (layers, E)
        measures = [load_measures(load) for load in recent]
        return {
            "loss": sum(self.losses[-window:]) / len(self.losses[-window:]),
            "load_cv": max(m["load_cv"] for m in measures),
            "max_share": max(m["max_share"] for m in measures),
            "dead_experts": sum(m["dead_experts"] for m in measures),
            "dropped": sum(self.dropped[-window:]) / len(self.dropped[-window:]),
        }

    @property
    def loads(self) -> torch.Tensor:
        """(steps, layers, E) share of routed assignments per expert."""
        c = self.config
        return torch.stack(self.load_steps) if self.load_steps else torch.zeros(0, c.n_layers, c.n_experts)

    @torch.no_grad()
    def route(self, text: str) -> tuple[str, list[Routing]]:
        """Route the first `context` characters of a text (unseen ones skipped), eval mode. -> (kept, [Routing])."""
        if not text.strip():
            raise ValueError("Type some text to route.")
        kept = "".join(ch for ch in text if ch in self.stoi)[: self.config.context]
        if not kept:
            raise ValueError("None of these characters occur in the training text; type some that do.")
        ids = torch.tensor([[self.stoi[ch] for ch in kept]], device=self.device)
        was_training = self.model.training
        self.model.eval()
        _, routings = self.model(ids)
        self.model.train(was_training)  # a model shared read-only by many sessions stays in eval mode
        return kept, routings

    @torch.no_grad()
    def probe_loads(self, batches: int = 4, seed: int = 1) -> torch.Tensor:
        """(layers, E) share of the routed assignments of `batches` training batches, no training, eval mode.

        At step 0 it shows where the untrained router sends tokens (its own generator: the training batches
        are not consumed)."""
        c, g = self.config, torch.Generator().manual_seed(seed)
        start = torch.randint(0, len(self.data) - c.context, (batches * c.batch_size,), generator=g)
        ids = self.data[(start[:, None] + torch.arange(c.context)).to(self.data.device)]  # (B, T)
        was_training = self.model.training
        self.model.eval()
        _, routings = self.model(ids)
        self.model.train(was_training)
        return torch.stack([r.load for r in routings]).cpu()


class BalanceComparison:
    """Three MoETrainers with one seed and one text, differing only in balancing: none, aux, bias.

    train_steps(n) steps all three and returns their metrics as "<balance>.<metric>".
    """

    def __init__(self, text: str, config: MoEConfig, seed: int = 0, device: str = "cpu", balances=BALANCES):
        self.trainers = {
            b: MoETrainer(text, MoEConfig(**{**config.__dict__, "balance": b}), seed, device) for b in balances
        }

    def train_steps(self, n: int) -> dict[str, float]:
        metrics = {}
        for balance, trainer in self.trainers.items():
            metrics |= {f"{balance}.{k}": v for k, v in trainer.train_steps(n).items()}
        return metrics
