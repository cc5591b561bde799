"""Needle in a haystack on the tiny model: find one digit among random letters, at lengths past training.

    k f a o 7 b c p ... m d ?   ->  7

A sequence of `length` tokens: random letters (the haystack), one digit (the needle) at a chosen depth, and a
final "?" whose target is the digit. Nothing but the needle's content marks it, so a model that attends by
content finds it anywhere; a position scheme that breaks past the training length, or a recency bias (ALiBi's
-slope * distance), can lose it. Accuracy against the needle's depth at one length is the "lost in the middle"
curve (Liu et al. 2023, https://arxiv.org/abs/2307.03172); against length, the extrapolation curve
(Kamradt 2023's needle in a haystack). The model is models/long_context/extrapolation.py's LengthLM.
"""

from __future__ import annotations

import time

import numpy as np
import torch
from torch.nn import functional as F

from models.long_context.extrapolation import LengthLM, PositionConfig, check_eval_length

LETTERS = 16  # haystack symbols "a".."p"
DIGITS = 10  # needle symbols "0".."9"
QUERY = LETTERS + DIGITS  # the "?" id
VOCAB = QUERY + 1
ITOS = [chr(ord("a") + i) for i in range(LETTERS)] + [str(d) for d in range(DIGITS)] + ["?"]


def needle_batch(length: int, depths: torch.Tensor, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """Sequences (B, length) with the needle at `depths` (B,) (0 = first token) and their answers (B,)."""
    batch = len(depths)
    tokens = torch.randint(LETTERS, (batch, length), generator=generator)
    answers = torch.randint(DIGITS, (batch,), generator=generator) + LETTERS
    tokens[torch.arange(batch), depths] = answers
    tokens[:, -1] = QUERY
    return tokens, answers


def depth_positions(length: int, percents) -> list[int]:
    """Depth in % of the haystack (0 = first token, 100 = just before the "?") -> a token index."""
    return [round(p / 100 * (length - 2)) for p in percents]


class NeedleTrainer:
    """A LengthLM trained on needles at random depths in sequences of train_len; the kit calls train_steps(n)."""

    def __init__(self, config: PositionConfig, seed: int = 0, device: str = "cpu"):
        self.config, self.device, self.seed = config, device, seed
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            self.model = LengthLM(config, VOCAB).to(device)
        self.optimizer = torch.optim.AdamW(self.model.parameters(), lr=config.lr)
        self.generator = torch.Generator().manual_seed(seed)
        self.steps, self.losses, self.accuracies, self.seconds = 0, [], [], 0.0

    def train_steps(self, n: int) -> dict[str, float]:
        self.model.train()
        started = time.perf_counter()
        L, B = self.config.train_len, self.config.batch_size
        for _ in range(n):
            depths = torch.randint(L - 1, (B,), generator=self.generator)
            tokens, answers = needle_batch(L, depths, self.generator)
            logits = self.model(tokens.to(self.device))[:, -1]  # (B, V): the answer after "?"
            loss = F.cross_entropy(logits, answers.to(self.device))
            self.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            self.optimizer.step()
            self.losses.append(loss.item())
            self.accuracies.append((logits.argmax(-1).cpu() == answers).float().mean().item())
            self.steps += 1
        self.seconds += time.perf_counter() - started
        return {"loss": self.losses[-1], "accuracy": float(np.mean(self.accuracies[-10:]))}

    @torch.no_grad()
    def accuracy(self, length: int, depth: int, n: int = 64, seed: int = 1234, rope_scaling: dict | None = None):
        """Share of `n` fresh needles at token `depth` answered right (argmax) in sequences of `length`."""
        check_eval_length(length)
        if not 0 <= depth <= length - 2:
            raise ValueError(f"A needle at token {depth} does not fit a sequence of {length}.")
        self.model.eval()
        generator = torch.Generator().manual_seed(seed + 7919 * depth + length)
        tokens, answers = needle_batch(length, torch.full((n,), depth), generator)
        logits = self.model(tokens.to(self.device), rope_scaling=rope_scaling)[:, -1]
        return (logits.argmax(-1).cpu() == answers).float().mean().item()

    def accuracy_grid(self, lengths, percents, n: int = 64) -> np.ndarray:
        """Accuracy (len(lengths), len(percents)): needle depth in % of each length."""
        return np.array([[self.accuracy(T, d, n) for d in depth_positions(T, percents)] for T in lengths], dtype=float)


class NeedleComparison:
    """One NeedleTrainer per position scheme, same seed, same needles; trained in lockstep."""

    def __init__(self, config: PositionConfig, schemes, seed: int = 0, device: str = "cpu"):
        self.trainers = {
            s: NeedleTrainer(PositionConfig(**{**config.__dict__, "positional": s}), seed, device) for s in schemes
        }

    def train_steps(self, n: int) -> dict[str, float]:
        metrics = {}
        for s, t in self.trainers.items():
            metrics |= {f"{s}.{k}": v for k, v in t.train_steps(n).items()}
        return metrics
