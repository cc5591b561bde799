"""A tiny transformer trained live on toy tasks, to see attention learn.

Tasks (all produce token ids; the loss counts only the marked target positions):
- "copy":    A C B D | _ _ _ _  ->  A C B D   (random symbols, a separator, blanks to fill)
- "reverse": A C B D | _ _ _ _  ->  D B C A   (needs positions: without them every order looks
  the same)
- "char_lm": next-character prediction on a given text.

Two lessons live here. Positions: with positional="none" attention cannot tell where a token
sits, so with causal=False "reverse" stays near chance while sinusoidal, learned or RoPE positions
learn it. Causality: with causal=False a language model may look at the very character it must
predict; its teacher-forced loss falls towards zero, yet it cannot generate, because at generation
time the future is not there yet (`future_peeking_report`: teacher-forced against autoregressive
loss, and a sample).

Model: a pre-LayerNorm GPT (Radford et al. 2019) built from models.attention.mechanism.MultiHeadAttention,
with the positional schemes of models.attention.positional.
"""

import dataclasses
import math
import time
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from models.attention.mechanism import MultiHeadAttention
from models.attention.positional import (
    LearnedPositionalEmbedding,
    alibi_bias,
    rope_cos_sin,
    sinusoidal_positions,
)

POSITIONAL_SCHEMES = ("none", "sinusoidal", "learned", "rope", "alibi")


@dataclass
class TinyTransformerConfig:
    vocab_size: int = 16  # number of token ids (the trainer sets it from the task)
    d_model: int = 64  # width of the residual stream
    n_heads: int = 4  # attention heads per layer
    n_layers: int = 2  # transformer blocks
    positional: str = "learned"  # one of POSITIONAL_SCHEMES
    causal: bool = True  # False lets every position see the future
    max_len: int = 64  # longest sequence (the trainer raises it to the task's length)
    mlp_ratio: int = 4  # hidden size of the MLP = mlp_ratio * d_model
    lr: float = 3e-3  # AdamW learning rate
    batch_size: int = 32  # sequences per training step

    def __post_init__(self):
        if self.positional not in POSITIONAL_SCHEMES:
            raise ValueError(f"positional must be one of {POSITIONAL_SCHEMES}, got {self.positional!r}")
        if self.d_model % self.n_heads:
            raise ValueError(
                f"d_model {self.d_model} must be divisible by the {self.n_heads} heads "
                "(each head gets d_model / n_heads dimensions)."
            )
        if self.positional == "rope" and (self.d_model // self.n_heads) % 2:
            raise ValueError("RoPE rotates pairs of dimensions: d_model / n_heads must be even.")
        if self.n_layers < 1 or self.batch_size < 1 or self.lr <= 0:
            raise ValueError("n_layers and batch_size must be at least 1, and lr positive.")


class Block(nn.Module):
    """x + attention(LN(x)), then x + MLP(LN(x)); returns the attention weights too."""

    def __init__(self, config: TinyTransformerConfig):
        super().__init__()
        self.ln_attn = nn.LayerNorm(config.d_model)
        self.attn = MultiHeadAttention(config.d_model, config.n_heads)
        self.ln_mlp = nn.LayerNorm(config.d_model)
        hidden = config.mlp_ratio * config.d_model
        self.mlp = nn.Sequential(nn.Linear(config.d_model, hidden), nn.GELU(), nn.Linear(hidden, config.d_model))

    def forward(self, x, causal, bias, rope):
        attended, weights = self.attn(self.ln_attn(x), mask=bias, causal=causal, rope=rope)
        x = x + attended
        x = x + self.mlp(self.ln_mlp(x))
        return x, weights  # (B, T, C), (B, H, T, T)


class TinyTransformer(nn.Module):
    def __init__(self, config: TinyTransformerConfig):
        super().__init__()
        self.config = config
        self.token_embedding = nn.Embedding(config.vocab_size, config.d_model)
        if config.positional == "learned":
            self.position_embedding = LearnedPositionalEmbedding(config.max_len, config.d_model)
        elif config.positional == "sinusoidal":
            table = sinusoidal_positions(config.max_len, config.d_model)
            self.register_buffer("sinusoidal_table", table, persistent=False)  # (T_max, C)
        elif config.positional == "rope":
            cos, sin = rope_cos_sin(config.max_len, config.d_model // config.n_heads)
            self.register_buffer("rope_cos", cos, persistent=False)  # (T_max, D)
            self.register_buffer("rope_sin", sin, persistent=False)  # (T_max, D)
        elif config.positional == "alibi":
            bias = alibi_bias(config.n_heads, config.max_len)
            self.register_buffer("alibi", bias, persistent=False)  # (H, T_max, T_max)
        self.blocks = nn.ModuleList(Block(config) for _ in range(config.n_layers))
        self.ln_final = nn.LayerNorm(config.d_model)
        self.lm_head = nn.Linear(config.d_model, config.vocab_size)

    def forward(self, idx: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """idx (B, T) -> logits (B, T, V) and attention weights (L, B, H, T, T)."""
        config, seq_len = self.config, idx.shape[1]
        if seq_len > config.max_len:
            raise ValueError(f"sequence of {seq_len} exceeds max_len {config.max_len}")
        x = self.token_embedding(idx)  # (B, T, C)
        if config.positional == "learned":
            x = x + self.position_embedding(seq_len)
        elif config.positional == "sinusoidal":
            x = x + self.sinusoidal_table[:seq_len]
        rope, bias = None, None
        if config.positional == "rope":
            rope = (self.rope_cos[:seq_len], self.rope_sin[:seq_len])
        elif config.positional == "alibi":
            bias = self.alibi[:, :seq_len, :seq_len]
        all_weights = []
        for block in self.blocks:
            x, weights = block(x, config.causal, bias, rope)
            all_weights.append(weights)
        logits = self.lm_head(self.ln_final(x))
        return logits, torch.stack(all_weights)


# ----------------------------------------------------------------------------- tasks


@dataclass
class SymbolTask:
    """copy / reverse: `length` distinct random symbols, a separator, then `length` blank slots.

    The model must write the target into the blanks: A C B | _ _ _ -> A C B (copy) or B C A
    (reverse). The target is never in the input, so nothing can be read from the future.
    Without positions and with causal=False, attention sees the blanks as a bag: they all get the
    same prediction and accuracy is capped at 1 / length (near chance). A causal mask by itself
    leaks order (Haviv et al. 2022, https://arxiv.org/abs/2203.16634), so a causal model without
    positions still learns part of the task.
    """

    name: str  # "copy" or "reverse"
    length: int = 8  # symbols per sequence (at most n_symbols, as they are distinct)
    n_symbols: int = 10  # alphabet size; chance accuracy is 1 / n_symbols

    def __post_init__(self):
        if not 1 <= self.length <= self.n_symbols:
            raise ValueError(
                f"The {self.length} symbols of a sequence are distinct, so they need an alphabet of "
                f"at least {self.length} (it has {self.n_symbols}): length must be between 1 and "
                "n_symbols."
            )

    @property
    def vocab_size(self) -> int:
        return self.n_symbols + 2  # symbols, then the separator and the blank

    @property
    def seq_len(self) -> int:
        return 2 * self.length + 1

    @property
    def itos(self) -> list[str]:
        symbols = [chr(ord("A") + i) if i < 26 else f"s{i}" for i in range(self.n_symbols)]
        return symbols + ["|", "_"]

    def decode(self, ids) -> str:
        return " ".join(self.itos[int(i)] for i in ids)

    def get_batch(self, batch_size: int, generator: torch.Generator):
        """Returns inputs (B, T), targets (B, T) and the loss mask (B, T), True on the blanks."""
        order = torch.rand(batch_size, self.n_symbols, generator=generator).argsort(dim=-1)
        source = order[:, : self.length]  # (B, L) distinct symbols per row
        target = source if self.name == "copy" else source.flip(-1)
        separator = torch.full((batch_size, 1), self.n_symbols)
        blanks = torch.full((batch_size, self.length), self.n_symbols + 1)
        inputs = torch.cat([source, separator, blanks], dim=1)  # (B, 2L + 1)
        targets = torch.cat([source, separator, target], dim=1)  # only the blanks count
        loss_mask = torch.zeros(batch_size, self.seq_len, dtype=torch.bool)
        loss_mask[:, self.length + 1 :] = True
        return inputs, targets, loss_mask


@dataclass
class CharLMTask:
    """Next-character prediction on random windows of a text."""

    text: str  # the training text
    block_size: int = 64  # characters per window

    def __post_init__(self):
        if len(self.text) < self.block_size + 2:
            raise ValueError(f"the text needs more than {self.block_size + 1} characters")
        self.name = "char_lm"
        self.itos = sorted(set(self.text))
        self.stoi = {ch: i for i, ch in enumerate(self.itos)}
        # each character's index in itos, vectorised (a Python loop takes seconds on a long text)
        codes = np.frombuffer(self.text.encode("utf-32-le"), dtype=np.uint32)  # (N,) code points
        alphabet = np.array([ord(ch) for ch in self.itos], dtype=np.uint32)  # (V,) sorted
        self.data = torch.from_numpy(np.searchsorted(alphabet, codes).astype(np.int64))  # (N,)

    @property
    def vocab_size(self) -> int:
        return len(self.itos)

    @property
    def seq_len(self) -> int:
        return self.block_size

    def encode(self, text: str) -> list[int]:
        return [self.stoi[ch] for ch in text if ch in self.stoi]

    def decode(self, ids) -> str:
        return "".join(self.itos[int(i)] for i in ids)

    def get_batch(self, batch_size: int, generator: torch.Generator):
        starts = torch.randint(len(self.data) - self.block_size - 1, (batch_size,), generator=generator)
        windows = torch.stack([self.data[s : s + self.block_size + 1] for s in starts.tolist()])
        loss_mask = torch.ones(batch_size, self.block_size, dtype=torch.bool)
        return windows[:, :-1], windows[:, 1:], loss_mask


def make_task(
    name: str,
    length: int = 8,
    n_symbols: int = 10,
    text: str | None = None,
    block_size: int = 64,
) -> SymbolTask | CharLMTask:
    """A task by name: copy and reverse use length and n_symbols, char_lm text and block_size."""
    if name in ("copy", "reverse"):
        return SymbolTask(name, length, n_symbols)
    if name == "char_lm":
        if not text:
            raise ValueError("char_lm needs a text")
        return CharLMTask(text, block_size)
    raise ValueError(f"unknown task {name!r}: use 'copy', 'reverse' or 'char_lm'")


# ----------------------------------------------------------------------------- training


def _masked_loss_and_accuracy(logits, targets, loss_mask):
    picked_logits, picked_targets = logits[loss_mask], targets[loss_mask]  # (N, V), (N,)
    loss = F.cross_entropy(picked_logits, picked_targets)
    accuracy = (picked_logits.argmax(-1) == picked_targets).float().mean()
    return loss, accuracy


class TinyTrainer:
    """Owns a TinyTransformer, its optimiser and its data stream; the UI calls train_steps(n)."""

    def __init__(self, config: TinyTransformerConfig, task, device: str = "cpu", seed: int = 0):
        self.task, self.device, self.seed = task, device, seed
        self.config = dataclasses.replace(config, vocab_size=task.vocab_size, max_len=max(config.max_len, task.seq_len))
        with torch.random.fork_rng(devices=[]):  # seeded init without touching the global RNG
            torch.manual_seed(seed)
            self.model = TinyTransformer(self.config).to(device)
        self.optimizer = torch.optim.AdamW(self.model.parameters(), lr=self.config.lr)
        self.generator = torch.Generator().manual_seed(seed)  # training batches
        self.step = 0

    def _batch(self, batch_size: int, generator: torch.Generator):
        return [t.to(self.device) for t in self.task.get_batch(batch_size, generator)]

    def train_steps(self, n: int) -> dict:
        """n optimiser steps; returns the last step's loss and accuracy on the target positions."""
        if n < 1:
            raise ValueError("train at least one step")
        self.model.train()
        started = time.perf_counter()
        for _ in range(n):
            inputs, targets, loss_mask = self._batch(self.config.batch_size, self.generator)
            logits, _ = self.model(inputs)
            loss, accuracy = _masked_loss_and_accuracy(logits, targets, loss_mask)
            self.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            self.optimizer.step()
            self.step += 1
        seconds = time.perf_counter() - started
        return {
            "step": self.step,
            "loss": loss.item(),
            "accuracy": accuracy.item(),
            "seconds": seconds,
        }

    @torch.no_grad()
    def evaluate(self, n_sequences: int = 64, seed: int = 1234) -> dict:
        """Teacher-forced loss and accuracy on fresh sequences (the same ones for a given seed)."""
        self.model.eval()
        inputs, targets, loss_mask = self._batch(n_sequences, torch.Generator().manual_seed(seed))
        logits, _ = self.model(inputs)
        loss, accuracy = _masked_loss_and_accuracy(logits, targets, loss_mask)
        chance = 1.0 / getattr(self.task, "n_symbols", self.task.vocab_size)
        return {"loss": loss.item(), "accuracy": accuracy.item(), "chance_accuracy": chance}

    @torch.no_grad()
    def autoregressive_loss(self, n_sequences: int = 64, seed: int = 1234) -> float:
        """Loss when position t may see only tokens 0..t: each prefix is run on its own.

        Equals the teacher-forced loss for a causal model; a model trained with causal=False
        that learned to read the next token loses that crutch here.
        """
        self.model.eval()
        inputs, targets, loss_mask = self._batch(n_sequences, torch.Generator().manual_seed(seed))
        losses = []
        for t in range(inputs.shape[1]):
            if not loss_mask[:, t].any():
                continue
            logits, _ = self.model(inputs[:, : t + 1])  # the future is not in the input
            rows = loss_mask[:, t]
            losses.append(F.cross_entropy(logits[rows, -1], targets[rows, t], reduction="sum"))
        return (torch.stack(losses).sum() / loss_mask.sum()).item()

    @torch.no_grad()
    def attention_maps(self, example=None) -> torch.Tensor:
        """Attention (L, H, T, T) of one example: ids, a string (char_lm) or None (a fresh one)."""
        self.model.eval()
        if example is None:
            example = self.task.get_batch(1, torch.Generator().manual_seed(self.seed))[0][0]
        elif isinstance(example, str):
            example = self.task.encode(example)
        ids = torch.as_tensor(example, dtype=torch.long, device=self.device)[None]  # (1, T)
        _, weights = self.model(ids)
        return weights[:, 0].cpu()  # (L, H, T, T)

    @torch.no_grad()
    def sample(self, prompt: str = "", max_new_tokens: int = 100, temperature: float = 1.0, seed: int = 0) -> str:
        """Generate characters one at a time (char_lm), each seeing only what came before."""
        self.model.eval()
        generator = torch.Generator().manual_seed(seed)
        ids = self.task.encode(prompt) or [int(self.task.data[0])]
        for _ in range(max_new_tokens):
            context = torch.tensor(ids[-self.task.seq_len :], device=self.device)[None]  # (1, T)
            logits, _ = self.model(context)
            probs = torch.softmax(logits[0, -1].float().cpu() / max(temperature, 1e-6), dim=-1)
            ids.append(int(torch.multinomial(probs, 1, generator=generator)))
        return self.task.decode(ids)

    def future_peeking_report(self, prompt: str = "", max_new_tokens: int = 200) -> dict:
        """Teacher-forced loss against autoregressive loss, plus a generated sample (char_lm)."""
        teacher_forced = self.evaluate()["loss"]  # the same sequences as autoregressive_loss
        autoregressive = self.autoregressive_loss()
        return {
            "teacher_forced_loss": teacher_forced,
            "autoregressive_loss": autoregressive,
            "uniform_loss": math.log(self.task.vocab_size),
            "sample": self.sample(prompt, max_new_tokens),
        }
