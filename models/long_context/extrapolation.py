"""Train at one length, evaluate at longer ones: which position schemes extrapolate.

A tiny pre-LayerNorm GPT (character level) is trained on windows of `train_len` characters and then reads held-out
text of 2x, 4x, 8x that length. Only the position scheme differs between the models:

- learned (GPT-2): a table of `train_len` vectors. Past it there is no vector; here the last one is reused
  (positions are clamped), so the model sees "position L-1" again and again.
- sinusoidal (Vaswani et al. 2017): fixed sin/cos vectors exist at every position, but past L they are vectors the
  model never saw.
- rope (Su et al. 2021): q and k rotated by m * theta_i; past L the slow pairs reach unseen angles. The trained RoPE
  model can be read with a scaling (models/long_context/rope_scaling.py: PI, NTK, YaRN) without retraining.
- alibi (Press et al. 2021, https://arxiv.org/abs/2108.12409): no embedding; scores get -slope_h * (i - j), a bias
  that is the same at every length ("train short, test long").
- none (NoPE, Kazemnejad et al. 2023, https://arxiv.org/abs/2305.19466): the causal mask alone tells order.

`LengthTrainer.train_steps(n)` is the kit's step function; `loss_by_length` and `loss_by_position` evaluate on the
same held-out windows for every model (the last 10 % of the text, never trained on). A second task, "needle",
plants one digit among random letters and asks for it at the end (models/long_context/needle.py).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from models.attention.positional import alibi_slopes, sinusoidal_positions
from models.long_context.rope_scaling import apply_rope, rope_cos_sin, rope_inv_freq

POSITIONAL = ("learned", "sinusoidal", "rope", "alibi", "none")
NAMES = {"learned": "learned", "sinusoidal": "sinusoidal", "rope": "RoPE", "alibi": "ALiBi", "none": "NoPE"}
MAX_EVAL_LEN = 4096  # the longest evaluation window: (B, H, T, T) scores must fit a CPU's memory


@dataclass
class PositionConfig:
    positional: str = "rope"  # one of POSITIONAL
    train_len: int = 64  # characters per training window
    d_model: int = 64  # width of the residual stream
    n_heads: int = 4  # attention heads (head dimension = d_model / n_heads)
    n_layers: int = 2  # transformer blocks
    lr: float = 3e-3  # AdamW learning rate
    batch_size: int = 16  # windows per step
    rope_base: float = 10000.0  # RoPE's base (theta_i = base^(-2i/d))

    def __post_init__(self):
        if self.positional not in POSITIONAL:
            raise ValueError(f"The position scheme must be one of {', '.join(POSITIONAL)} (got {self.positional!r}).")
        if not 8 <= self.train_len <= 512:
            raise ValueError(f"Train at 8 to 512 characters (got {self.train_len}).")
        if self.d_model < 8 or self.n_heads < 1 or self.d_model % self.n_heads:
            raise ValueError(f"d_model ({self.d_model}) must be at least 8 and divisible by the {self.n_heads} heads.")
        if (self.d_model // self.n_heads) % 2:
            raise ValueError("RoPE rotates pairs of dimensions: d_model / n_heads must be even.")
        if not 1 <= self.n_layers <= 8 or not 1 <= self.batch_size <= 256:
            raise ValueError("Use 1 to 8 layers and 1 to 256 windows per step.")
        if not 0 < self.lr <= 0.1:
            raise ValueError(f"The learning rate must be above 0 and at most 0.1 (got {self.lr:g}).")
        if not self.rope_base > 1:
            raise ValueError(f"The RoPE base must be above 1 (got {self.rope_base:g}).")

    @property
    def head_dim(self) -> int:
        return self.d_model // self.n_heads


class Block(nn.Module):
    def __init__(self, config: PositionConfig):
        super().__init__()
        self.n_heads = config.n_heads
        self.ln_attn, self.ln_mlp = nn.LayerNorm(config.d_model), nn.LayerNorm(config.d_model)
        self.qkv = nn.Linear(config.d_model, 3 * config.d_model)
        self.proj = nn.Linear(config.d_model, config.d_model)
        self.mlp = nn.Sequential(
            nn.Linear(config.d_model, 4 * config.d_model), nn.GELU(), nn.Linear(4 * config.d_model, config.d_model)
        )

    def forward(self, x, bias, rope):
        B, T, C = x.shape
        q, k, v = self.qkv(self.ln_attn(x)).split(C, dim=-1)
        q, k, v = (t.view(B, T, self.n_heads, C // self.n_heads).transpose(1, 2) for t in (q, k, v))  # (B, H, T, D)
        if rope is not None:
            q, k = apply_rope(q, *rope), apply_rope(k, *rope)
        attended = F.scaled_dot_product_attention(q, k, v, attn_mask=bias)  # bias: causal mask (+ ALiBi)
        x = x + self.proj(attended.transpose(1, 2).reshape(B, T, C))
        return x + self.mlp(self.ln_mlp(x))


class LengthLM(nn.Module):
    """A character-level GPT whose position scheme is a setting; forward takes any length."""

    def __init__(self, config: PositionConfig, vocab_size: int):
        super().__init__()
        self.config = config
        self.token_embedding = nn.Embedding(vocab_size, config.d_model)
        if config.positional == "learned":
            self.position_embedding = nn.Embedding(config.train_len, config.d_model)
            nn.init.normal_(self.position_embedding.weight, std=0.02)
        self.blocks = nn.ModuleList(Block(config) for _ in range(config.n_layers))
        self.ln_final = nn.LayerNorm(config.d_model)
        self.lm_head = nn.Linear(config.d_model, vocab_size)

    def forward(self, idx: torch.Tensor, rope_scaling: dict | None = None) -> torch.Tensor:
        """idx (B, T) -> logits (B, T, V). rope_scaling: a transformers-style dict for the RoPE model."""
        config, T = self.config, idx.shape[1]
        positions = torch.arange(T, device=idx.device)
        x = self.token_embedding(idx)  # (B, T, C)
        if config.positional == "learned":
            x = x + self.position_embedding(positions.clamp(max=config.train_len - 1))  # the table ends at L
        elif config.positional == "sinusoidal":
            x = x + sinusoidal_positions(T, config.d_model).to(x.device)
        causal = torch.ones(T, T, dtype=torch.bool, device=idx.device).tril()
        bias = torch.zeros(T, T, device=idx.device).masked_fill(~causal, float("-inf"))  # (T, T)
        rope = None
        if config.positional == "rope":
            inv_freq, scale = rope_inv_freq(config.head_dim, config.rope_base, rope_scaling, seq_len=T)
            rope = rope_cos_sin(positions, inv_freq.to(idx.device), scale)  # (T, D) each
        elif config.positional == "alibi":
            distance = (positions[:, None] - positions[None, :]).float()  # (T, T), i - j
            bias = bias - alibi_slopes(config.n_heads).to(idx.device)[:, None, None] * distance  # (H, T, T)
        for block in self.blocks:
            x = block(x, bias, rope)
        return self.lm_head(self.ln_final(x))


class CharData:
    """Characters as ids; the first 90 % train, the last 10 % is held out."""

    def __init__(self, text: str):
        if len(text) < 1000:
            raise ValueError(f"The text has {len(text):,} characters; give at least 1,000.")
        self.itos = sorted(set(text))
        stoi = {ch: i for i, ch in enumerate(self.itos)}
        ids = torch.tensor([stoi[ch] for ch in text], dtype=torch.long)
        split = int(0.9 * len(ids))
        self.train, self.heldout = ids[:split], ids[split:]

    @property
    def vocab_size(self) -> int:
        return len(self.itos)

    def batch(self, length: int, batch_size: int, generator: torch.Generator):
        starts = torch.randint(len(self.train) - length - 1, (batch_size,), generator=generator)
        windows = torch.stack([self.train[s : s + length + 1] for s in starts.tolist()])  # (B, T + 1)
        return windows[:, :-1], windows[:, 1:]

    def heldout_windows(self, length: int, n_windows: int) -> tuple[torch.Tensor, torch.Tensor]:
        """`n_windows` evenly spaced held-out windows of `length` (the same for every model)."""
        if length + 1 > len(self.heldout):
            raise ValueError(f"The held-out text has {len(self.heldout):,} characters: too short for {length:,}.")
        starts = np.linspace(0, len(self.heldout) - length - 1, n_windows).astype(int)
        windows = torch.stack([self.heldout[s : s + length + 1] for s in starts])
        return windows[:, :-1], windows[:, 1:]


def check_eval_length(length: int) -> int:
    if not 1 <= length <= MAX_EVAL_LEN:
        raise ValueError(
            f"An evaluation length of {length:,} characters needs a {length:,} x {length:,} attention matrix per "
            f"head; this page evaluates up to {MAX_EVAL_LEN:,}. Pick a shorter length."
        )
    return length


class LengthTrainer:
    """One LengthLM, its optimiser and its batches; the kit calls train_steps(n)."""

    def __init__(self, text: str | CharData, config: PositionConfig, seed: int = 0, device: str = "cpu"):
        self.config, self.device, self.seed = config, device, seed
        self.data = text if isinstance(text, CharData) else CharData(text)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            self.model = LengthLM(config, self.data.vocab_size).to(device)
        self.optimizer = torch.optim.AdamW(self.model.parameters(), lr=config.lr)
        self.generator = torch.Generator().manual_seed(seed)
        self.steps, self.losses, self.seconds = 0, [], 0.0

    def train_steps(self, n: int) -> dict[str, float]:
        self.model.train()
        started = time.perf_counter()
        for _ in range(n):
            inputs, targets = self.data.batch(self.config.train_len, self.config.batch_size, self.generator)
            logits = self.model(inputs.to(self.device))
            loss = F.cross_entropy(logits.flatten(0, 1), targets.to(self.device).flatten())
            self.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            self.optimizer.step()
            self.losses.append(loss.item())
            self.steps += 1
        self.seconds += time.perf_counter() - started
        return {"loss": self.losses[-1]}

    @torch.no_grad()
    def loss_by_position(self, length: int, n_windows: int = 8, rope_scaling: dict | None = None) -> np.ndarray:
        """Held-out loss (nats) at each position 0 .. length-1, averaged over `n_windows` windows. (length,)"""
        check_eval_length(length)
        self.model.eval()
        inputs, targets = self.data.heldout_windows(length, n_windows)
        logits = self.model(inputs.to(self.device), rope_scaling=rope_scaling)  # (N, T, V)
        losses = F.cross_entropy(logits.transpose(1, 2), targets.to(self.device), reduction="none")  # (N, T)
        return losses.mean(0).cpu().numpy()

    def loss_by_length(self, lengths, n_windows: int = 8, rope_scaling: dict | None = None) -> dict[int, float]:
        """Held-out loss of whole windows of each length (every position counted, from the first)."""
        return {int(T): float(self.loss_by_position(int(T), n_windows, rope_scaling).mean()) for T in lengths}


class SchemeComparison:
    """One LengthTrainer per position scheme, same seed, same batches; trained in lockstep."""

    def __init__(self, text: str, config: PositionConfig, schemes=POSITIONAL, seed: int = 0, device: str = "cpu"):
        data = CharData(text)
        self.trainers = {
            s: LengthTrainer(data, PositionConfig(**{**config.__dict__, "positional": s}), seed, device)
            for s in schemes
        }

    @property
    def steps(self) -> int:
        return min(t.steps for t in self.trainers.values())

    def train_steps(self, n: int) -> dict[str, float]:
        return {f"{s}.loss": t.train_steps(n)["loss"] for s, t in self.trainers.items()}

    def loss_table(self, lengths, n_windows: int = 8) -> dict[str, dict[int, float]]:
        return {s: t.loss_by_length(lengths, n_windows) for s, t in self.trainers.items()}


def smooth(values: np.ndarray, width: int) -> np.ndarray:
    """Moving average over `width` positions (same length; the edges average what they have)."""
    kernel = np.ones(width)
    return np.convolve(values, kernel, "same") / np.convolve(np.ones_like(values), kernel, "same")


def uniform_loss(vocab_size: int) -> float:
    return math.log(vocab_size)
