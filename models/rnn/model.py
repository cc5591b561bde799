"""A character-level recurrent language model trained with truncated BPTT, clipping and scheduled sampling.

    x_t = E[c_t];  h_t = cell(x_t, h_{t-1});  p(c_{t+1} | c_≤t) = softmax(W h_t + b)
    loss = mean over the B·T positions of −log p(c_{t+1})

Truncated BPTT (Williams & Peng 1990): the text is cut into B parallel streams read T characters at a time; the
state at the end of one chunk starts the next (detached): the state crosses chunks, the gradient does not.
Clipping (Pascanu et al. 2013): g ← g · min(1, τ / ‖g‖) with ‖g‖ the norm over all parameters.
Padding: a batch of unequal sequences is padded to the longest; the loss sums the real positions only and divides
by their count (`masked_cross_entropy`, equal to cross_entropy(ignore_index=pad)).
Scheduled sampling (Bengio et al. 2015): at training step i each input is the true previous character with
probability ε_i, else the model's own sample; ε_i decays from 1 (teacher forcing) towards a floor.
The vanishing gradient, measured: `grad_by_distance[step, d]` = ‖∂L_last/∂h_{T−1−d}‖, with L_last the loss at the
chunk's last position, d steps back.

Papers: https://arxiv.org/abs/1211.5063 · https://arxiv.org/abs/1506.03099 ·
https://doi.org/10.1162/neco.1990.2.4.490
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from models.rnn.cells import CELLS, detach_state, fused_layer, make_cell, run_layer

SCHEDULES = ("none", "linear", "exponential", "inverse_sigmoid")
OPTIMIZERS = ("adam", "sgd")
MAX_HIDDEN, MAX_BPTT = 1024, 512


@dataclass
class RNNConfig:
    cell: str = "lstm"  # one of CELLS: rnn, lstm, gru
    hidden: int = 128  # hidden units H
    embed: int = 32  # character embedding width
    bptt: int = 64  # characters per chunk T (truncated BPTT length)
    batch_size: int = 32  # parallel streams B
    lr: float = 3e-3  # learning rate
    optimizer: str = "adam"  # one of OPTIMIZERS
    clip: float = 1.0  # max gradient norm τ; 0 = no clipping
    forget_bias: float = 1.0  # LSTM forget-gate bias at the start (f = σ(b)); 0 = torch's plain init
    schedule: str = "none"  # scheduled sampling: one of SCHEDULES ("none" = teacher forcing throughout)
    schedule_k: float = 300.0  # the schedule's speed in steps (linear: reaches its floor after k steps)
    min_teacher: float = 0.5  # floor of ε, the probability of feeding the true character
    track_gradients: bool = True  # measure ‖∂L_last/∂h_t‖ per step (one more backward pass)
    fast: bool = False  # torch's fused kernel when nothing per step is needed (same losses, tested)

    def __post_init__(self):
        if self.cell not in CELLS:
            raise ValueError(f"Unknown cell {self.cell!r}; choose one of {', '.join(CELLS)}.")
        if not 1 <= self.hidden <= MAX_HIDDEN:
            raise ValueError(f"The hidden size must be between 1 and {MAX_HIDDEN} (got {self.hidden}).")
        if not 1 <= self.embed <= MAX_HIDDEN:
            raise ValueError(f"The embedding width must be between 1 and {MAX_HIDDEN} (got {self.embed}).")
        if not 2 <= self.bptt <= MAX_BPTT:
            raise ValueError(f"The BPTT length must be between 2 and {MAX_BPTT} characters (got {self.bptt}).")
        if not 1 <= self.batch_size <= 1024:
            raise ValueError(f"The batch size must be between 1 and 1024 (got {self.batch_size}).")
        if not 0 < self.lr <= 100:
            raise ValueError(f"The learning rate must be above 0 and at most 100 (got {self.lr}).")
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(f"Unknown optimizer {self.optimizer!r}; choose one of {', '.join(OPTIMIZERS)}.")
        if not self.clip >= 0:
            raise ValueError(f"The clipping threshold must be 0 (off) or more (got {self.clip}).")
        if not -10 <= self.forget_bias <= 10:
            raise ValueError(f"Keep the forget-gate bias between −10 and 10 (got {self.forget_bias}).")
        if self.schedule not in SCHEDULES:
            raise ValueError(f"Unknown schedule {self.schedule!r}; choose one of {', '.join(SCHEDULES)}.")
        if not self.schedule_k > 0:
            raise ValueError(f"The schedule's speed k must be above 0 steps (got {self.schedule_k}).")
        if not 0 <= self.min_teacher <= 1:
            raise ValueError(f"The floor of ε is a probability, between 0 and 1 (got {self.min_teacher}).")


def teacher_probability(step: int, schedule: str, k: float, floor: float = 0.0) -> float:
    """ε_i of scheduled sampling: the probability of feeding the true character at training step i."""
    if schedule == "none":
        return 1.0
    if schedule == "linear":
        eps = 1 - step / k
    elif schedule == "exponential":
        eps = math.exp(-step / k)
    elif schedule == "inverse_sigmoid":  # Bengio et al.'s k / (k + exp(i / k)), shifted to start at 1
        eps = k / (k + math.exp(step / k) - 1)
    else:
        raise ValueError(f"Unknown schedule {schedule!r}; choose one of {', '.join(SCHEDULES)}.")
    return max(floor, eps)


def masked_cross_entropy(logits, targets, mask):
    """Mean −log p over the real positions only. logits (B, T, V), targets (B, T), mask (B, T) bool -> ().

    Padded positions add nothing and do not count: sum over real tokens / number of real tokens."""
    nll = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1), reduction="none")  # (B·T,)
    mask = mask.reshape(-1).to(nll.dtype)
    return (nll * mask).sum() / mask.sum().clamp(min=1)


class CharRNN(nn.Module):
    """Embedding -> one recurrent cell -> linear head. forward(ids (B, T), state) -> (logits (B, T, V), state)."""

    def __init__(self, config: RNNConfig, vocab_size: int):
        super().__init__()
        self.config = config
        self.embedding = nn.Embedding(vocab_size, config.embed)
        self.cell = make_cell(config.cell, config.embed, config.hidden, config.forget_bias)
        self.head = nn.Linear(config.hidden, vocab_size)

    def forward(self, ids, state=None, teacher: float = 1.0, generator=None, keep_gates=False, fused=False):
        """Teacher forcing when `teacher` = 1; else each input after the first is the true character with
        probability `teacher`, the model's own sample otherwise. `fused`: torch's kernel, no [h_t] returned.
        -> (logits, state, [h_t], [gates_t])."""
        if teacher >= 1.0 and not keep_gates and fused:
            out, state = fused_layer(self.cell, self.embedding(ids), state, self.training)
            return self.head(out), state, None, None
        if teacher >= 1.0:
            out, state, hiddens, gates = run_layer(self.cell, self.embedding(ids), state, keep_gates=keep_gates)
            return self.head(out), state, hiddens, gates
        B, T = ids.shape
        state = self.cell.zero_state(B, ids.device) if state is None else state
        logits, hiddens, previous = [], [], ids[:, 0]
        for t in range(T):
            if t > 0:
                own = torch.multinomial(logits[-1].detach().softmax(-1), 1, generator=generator)[:, 0]  # (B,)
                coin = torch.rand(B, generator=generator, device=ids.device) < teacher
                previous = torch.where(coin, ids[:, t], own)
            state, _ = self.cell.step(self.embedding(previous), state)
            h = state[0] if isinstance(state, tuple) else state
            hiddens.append(h)
            logits.append(self.head(h))  # (B, V)
        return torch.stack(logits, dim=1), state, hiddens, None


def parameter_count(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


class RNNTrainer:
    """A CharRNN on next-character prediction, truncated BPTT over B streams of the text.

    train_steps(n) -> metrics; per step: .losses, .grad_norms (before clipping), .grad_by_distance [steps, T]."""

    def __init__(self, text: str, config: RNNConfig, seed: int = 0, device: str = "cpu"):
        if len(set(text)) < 2:
            raise ValueError("The text needs at least two different characters to learn anything.")
        self.chars = sorted(set(text))
        self.stoi = {ch: i for i, ch in enumerate(self.chars)}
        self.config, self.device = config, device
        data = torch.tensor([self.stoi[ch] for ch in text], dtype=torch.long)
        cut = int(len(data) * 0.9) if len(data) >= 20 * (config.bptt + 1) else len(data)
        self.train_data, self.heldout = data[:cut], data[cut:] if cut < len(data) else data
        T = config.bptt
        n_streams = min(config.batch_size, (len(self.train_data) - 1) // (T + 1))
        if n_streams < 1:
            raise ValueError(
                f"The text has {len(text):,} characters; one chunk of {T} characters (the BPTT length) needs "
                f"{T + 2}. Paste more text or lower the BPTT length."
            )
        stream_len = (len(self.train_data) - 1) // n_streams
        rows = torch.arange(n_streams)[:, None] * stream_len + torch.arange(stream_len + 1)  # (B, L+1)
        self.streams = self.train_data[rows].to(device)  # stream b continues where b−1 ends: one pass per epoch
        self.position, self.state, self.epochs = 0, None, 0
        torch.manual_seed(seed)
        self.model = CharRNN(config, len(self.chars)).to(device)
        opt = torch.optim.Adam if config.optimizer == "adam" else torch.optim.SGD
        self.optimizer = opt(self.model.parameters(), lr=config.lr)
        self.generator = torch.Generator(device=device).manual_seed(seed)
        self.steps, self.chars_seen, self.seconds = 0, 0, 0.0
        self.losses: list[float] = []
        self.grad_norms: list[float] = []
        self.distance_rows: list[np.ndarray] = []

    @property
    def n_params(self) -> int:
        return parameter_count(self.model)

    @property
    def grad_by_distance(self) -> np.ndarray:
        """(steps, T): column d = ‖∂L_last/∂h_{T−1−d}‖ (steps where it was measured)."""
        return np.stack(self.distance_rows) if self.distance_rows else np.zeros((0, self.config.bptt))

    def batch(self):
        """The next chunk of every stream: inputs and targets (B, T); wraps to the start (state reset) at the end."""
        T = self.config.bptt
        if self.position + T + 1 > self.streams.shape[1]:
            self.position, self.state = 0, None
            self.epochs += 1
        chunk = self.streams[:, self.position : self.position + T + 1]
        self.position += T
        return chunk[:, :-1], chunk[:, 1:]

    def train_steps(self, n: int) -> dict[str, float]:
        c, model = self.config, self.model
        model.train()
        start = time.perf_counter()
        for _ in range(n):
            ids, targets = self.batch()
            teacher = teacher_probability(self.steps, c.schedule, c.schedule_k, c.min_teacher)
            track = c.track_gradients and teacher >= 1.0
            fused = c.fast and not track  # the loop keeps every h_t for ∂L/∂h_t
            logits, state, hiddens, _ = model(ids, self.state, teacher, self.generator, fused=fused)
            loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1))
            if track:
                last = F.cross_entropy(logits[:, -1], targets[:, -1])  # L_last
                grads = torch.autograd.grad(last, hiddens, retain_graph=True)  # ∂L_last/∂h_t, t = 0..T−1
                norms = torch.stack([g.norm() for g in grads]).flip(0)  # (T,), d = 0 first
                self.distance_rows.append(norms.cpu().numpy())
            self.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            max_norm = c.clip if c.clip > 0 else math.inf
            norm = torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm)  # the norm before clipping
            self.optimizer.step()
            self.state = detach_state(state)  # truncated BPTT: the state crosses chunks, the gradient does not
            self.steps += 1
            self.chars_seen += ids.numel()
            self.losses.append(float(loss.detach()))
            self.grad_norms.append(float(norm))
        self.seconds += time.perf_counter() - start
        return {
            "loss": self.losses[-1],
            "grad_norm": self.grad_norms[-1],
            "teacher_prob": teacher,
            "chars_per_s": self.chars_seen / max(self.seconds, 1e-9),
        }

    @torch.no_grad()
    def heldout_loss(self, teacher: float = 1.0, windows: int = 16, seed: int = 0) -> float:
        """Mean −log p on held-out windows of T characters; `teacher` < 1 feeds the model's own samples instead of a
        share 1 − teacher of the inputs (the test-time condition scheduled sampling trains for)."""
        T = self.config.bptt
        g = torch.Generator().manual_seed(seed)
        top = max(1, len(self.heldout) - T - 1)
        starts = torch.randint(0, top, (windows,), generator=g)
        rows = (starts[:, None] + torch.arange(T + 1)).clamp(max=len(self.heldout) - 1)
        chunk = self.heldout[rows].to(self.device)
        self.model.eval()
        sampler = torch.Generator(device=self.device).manual_seed(seed)
        logits = self.model(chunk[:, :-1], None, teacher, sampler, fused=self.config.fast)[0]
        self.model.train()
        return float(F.cross_entropy(logits.reshape(-1, logits.shape[-1]), chunk[:, 1:].reshape(-1)))

    @torch.no_grad()
    def sample(self, prompt: str, n: int, temperature: float = 1.0, seed: int = 0) -> str:
        """The prompt (unknown characters dropped) and n characters sampled one at a time."""
        if not temperature > 0:
            raise ValueError("The temperature must be above 0.")
        known = [self.stoi[ch] for ch in prompt if ch in self.stoi] or [0]
        g = torch.Generator(device=self.device).manual_seed(seed)
        self.model.eval()
        ids = torch.tensor([known], device=self.device)
        logits, state, _, _ = self.model(ids)
        out = []
        for _ in range(n):
            probs = (logits[0, -1] / temperature).softmax(-1)
            nxt = torch.multinomial(probs, 1, generator=g)
            out.append(self.chars[int(nxt)])
            logits, state, _, _ = self.model(nxt.view(1, 1), state)
        self.model.train()
        return "".join(self.chars[i] for i in known) + "".join(out)


class CellComparison:
    """Trainers from one seed on one text, differing in one setting (the cell, clipping, the BPTT length ...).

    train_steps(n) steps each and returns "<name>.<metric>". A run whose loss becomes NaN or infinite stops
    (`diverged[name]` = its step) while the others go on; its metrics are then left out."""

    def __init__(self, text: str, configs: dict[str, RNNConfig], seed: int = 0, device: str = "cpu"):
        self.trainers = {name: RNNTrainer(text, config, seed, device) for name, config in configs.items()}
        self.diverged: dict[str, int] = {}

    def train_steps(self, n: int) -> dict[str, float]:
        metrics = {}
        for name, trainer in self.trainers.items():
            if name in self.diverged:
                continue
            out = trainer.train_steps(n)
            if not math.isfinite(out["loss"]):
                self.diverged[name] = trainer.steps
                if len(self.diverged) == len(self.trainers):
                    metrics[f"{name}.loss"] = out["loss"]  # all blew up: let the kit stop with its message
                continue
            metrics |= {f"{name}.{k}": v for k, v in out.items()}
        return metrics
