"""Three pre-training objectives on one tiny transformer and one text: what each token is asked to predict.

- CLM, causal language modelling (GPT; Radford et al. 2018): position t sees tokens 0..t and predicts token t+1.
  Every token carries a loss: L = -1/T Σ_t log p(x_{t+1} | x_{≤t}).
- MLM, masked language modelling (BERT; Devlin et al. 2019, https://arxiv.org/abs/1810.04805): full attention; p
  (15 %) of the tokens are chosen and corrupted by the 80/10/10 rule (models/pretraining/masking.py); only those
  carry a loss: L = -1/|M| Σ_{t∈M} log p(x_t | x̃).
- ELECTRA, replaced-token detection (Clark et al. 2020, https://arxiv.org/abs/2003.10555): a small generator is an
  MLM on [MASK]-ed input; its samples fill the masks, and a discriminator labels *every* token original or
  replaced: L = L_MLM(generator) + λ · 1/T Σ_t BCE(D(x̂)_t, [x̂_t ≠ x_t]), λ = 50. A sample that happens to equal
  the original counts as original. Every token gives the discriminator a signal, not 15 %.

Tokens are characters (the text's alphabet plus [MASK]), so a model trains in seconds on a CPU. The network is
models/attention/tiny_transformer.py's TinyTransformer: a pre-LayerNorm GPT whose `causal` flag is the only
difference between the CLM model and the MLM model. The ELECTRA discriminator is the same network with a 1-logit
head; its generator is narrower (the paper's generators are 1/4 to 1/2 of the discriminator's width). The paper
shares the token embeddings of the two; here they are separate (simpler, and the curves barely change).

Fill-in-the-blank accuracy (`fill_in_accuracy`) masks 15 % of the characters of a held-out text (never the first
of a window) and asks each model for them from the context its objective allows: CLM from the characters on the
left only, MLM and ELECTRA's generator from both sides with [MASK] in the blanks.
"""

from __future__ import annotations

import dataclasses
import time
from collections import Counter
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from models.attention.tiny_transformer import TinyTransformer, TinyTransformerConfig
from models.pretraining.masking import IGNORE, check_rate, mask_tokens

OBJECTIVES = {"clm": "causal LM (GPT)", "mlm": "masked LM (BERT)", "electra": "replaced-token detection (ELECTRA)"}
MASK = "\u2588"  # how [MASK] is shown in a text (█)
MIN_CHARS = 200  # a text shorter than this cannot give a training window and a held-out part


@dataclass
class ObjectiveConfig:
    objective: str = "mlm"  # one of OBJECTIVES
    mask_rate: float = 0.15  # share of the tokens chosen for a loss (MLM, ELECTRA's generator)
    d_model: int = 64  # width of the residual stream (the discriminator's, for ELECTRA)
    n_heads: int = 4  # attention heads per layer
    n_layers: int = 2  # transformer blocks
    block_size: int = 32  # characters per training window
    batch_size: int = 32  # windows per step
    lr: float = 3e-3  # AdamW learning rate
    positional: str = "rope"  # position scheme (models/attention/positional.py); RoPE gives MLM its neighbours at once
    generator_width: int = 32  # ELECTRA's generator d_model (narrower than the discriminator)
    electra_weight: float = 50.0  # λ, the weight of the discriminator's loss (the paper's 50)

    def __post_init__(self):
        if self.objective not in OBJECTIVES:
            raise ValueError(f"The objective must be one of {', '.join(OBJECTIVES)} (got {self.objective!r}).")
        check_rate(self.mask_rate)
        if self.d_model % self.n_heads or self.generator_width % self.n_heads:
            raise ValueError(
                f"The width {self.d_model} and the generator's {self.generator_width} must divide by the "
                f"{self.n_heads} heads."
            )
        if not 8 <= self.block_size <= 256:
            raise ValueError(f"The window must be 8 to 256 characters (got {self.block_size}).")
        if not (1 <= self.n_layers <= 8 and 1 <= self.batch_size <= 512):
            raise ValueError("Use 1 to 8 layers and 1 to 512 windows per step.")
        if not 0 < self.lr <= 1:
            raise ValueError(f"The learning rate must be above 0 and at most 1 (got {self.lr:g}).")
        if self.electra_weight < 0:
            raise ValueError("The discriminator's weight λ must be 0 or more.")


class CharVocab:
    """The characters of a text, then [MASK]; `encode` drops characters it has not seen."""

    def __init__(self, text: str):
        self.chars = sorted(set(text))
        self.mask_id = len(self.chars)
        self.size = len(self.chars) + 1
        self._alphabet = np.array([ord(c) for c in self.chars], dtype=np.uint32)

    def encode(self, text: str) -> torch.Tensor:
        codes = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)  # (N,) code points
        where = np.searchsorted(self._alphabet, codes).clip(0, len(self.chars) - 1)
        known = self._alphabet[where] == codes
        return torch.from_numpy(where[known].astype(np.int64))  # (N',)

    def decode(self, ids) -> str:
        return "".join(MASK if int(i) == self.mask_id else self.chars[int(i)] for i in ids)


def split_text(text: str, block_size: int = 64, heldout_fraction: float = 0.1) -> tuple[str, str]:
    """(train, held-out): the last tenth held out, both at least a few windows long."""
    text = (text or "").strip()
    if len(text) < MIN_CHARS or len(text) < 4 * (block_size + 1):
        raise ValueError(
            f"The text has {len(text):,} characters; at least {max(MIN_CHARS, 4 * (block_size + 1)):,} are needed "
            "(training windows and a held-out part to fill in). Paste a longer text."
        )
    if len(set(text)) < 2:
        raise ValueError("The text uses a single character; there is nothing to predict.")
    cut = int(len(text) * (1 - heldout_fraction))
    cut = min(cut, len(text) - 2 * (block_size + 1))
    return text[:cut], text[cut:]


def electra_discriminator_loss(disc_logits: torch.Tensor, corrupted: torch.Tensor, original: torch.Tensor):
    """disc_logits (B, T), one logit "replaced" per token -> mean BCE over every token, and the labels (B, T)."""
    replaced = (corrupted != original).float()  # a sample equal to the original counts as original
    return F.binary_cross_entropy_with_logits(disc_logits, replaced), replaced


class ObjectiveTrainer:
    """One objective, one model, one text; the UI calls train_steps(n) in short chunks."""

    def __init__(self, text: str, config: ObjectiveConfig, seed: int = 0, device: str = "cpu", vocab=None):
        self.config, self.seed, self.device = config, seed, device
        train_text, self.heldout_text = split_text(text, config.block_size)
        self.vocab = vocab or CharVocab(text)
        self.data = self.vocab.encode(train_text)  # (N,)
        c = config
        net = TinyTransformerConfig(
            vocab_size=self.vocab.size,
            d_model=c.d_model,
            n_heads=c.n_heads,
            n_layers=c.n_layers,
            positional=c.positional,
            causal=c.objective == "clm",
            max_len=c.block_size,
        )
        with torch.random.fork_rng(devices=[]):  # seeded init without touching the global RNG
            torch.manual_seed(seed)
            self.model = TinyTransformer(net)
            self.generator_model = None
            if c.objective == "electra":
                self.model.lm_head = nn.Linear(c.d_model, 1)  # the discriminator: one logit "replaced" per token
                small = dataclasses.replace(net, d_model=c.generator_width, causal=False)
                self.generator_model = TinyTransformer(small).to(device)
            self.model.to(device)
        params = list(self.model.parameters())
        if self.generator_model is not None:
            params += list(self.generator_model.parameters())
        self.n_params = sum(p.numel() for p in params)
        self.optimizer = torch.optim.AdamW(params, lr=c.lr)
        self.batches = torch.Generator().manual_seed(seed)  # windows: the same stream for every objective
        self.masks = torch.Generator().manual_seed(seed + 1)  # which tokens are chosen, and the samples
        self.steps = 0
        self.tokens_seen = 0  # input tokens
        self.signal_seen = 0  # tokens that carried a loss
        self.seconds = 0.0

    # ------------------------------------------------------------------ one step
    def _windows(self) -> torch.Tensor:
        c = self.config
        starts = torch.randint(len(self.data) - c.block_size - 1, (c.batch_size,), generator=self.batches)
        return torch.stack([self.data[s : s + c.block_size + 1] for s in starts.tolist()])  # (B, T+1)

    def losses(self, windows: torch.Tensor) -> dict[str, torch.Tensor]:
        """The objective's loss on windows (B, T+1), and which tokens carried it (`signal`, (B, T) bool)."""
        c, vocab = self.config, self.vocab
        if c.objective == "clm":
            inputs, targets = windows[:, :-1].to(self.device), windows[:, 1:].to(self.device)
            logits, _ = self.model(inputs)  # (B, T, V)
            loss = F.cross_entropy(logits.flatten(0, 1), targets.flatten())
            return {"loss": loss, "signal": torch.ones_like(inputs, dtype=torch.bool)}
        ids = windows[:, :-1]  # (B, T): the same characters the CLM model reads
        if c.objective == "mlm":
            inputs, labels = mask_tokens(ids, vocab.mask_id, vocab.size - 1, c.mask_rate, self.masks)
            logits, _ = self.model(inputs.to(self.device))  # (B, T, V)
            labels = labels.to(self.device)
            loss = F.cross_entropy(logits.flatten(0, 1), labels.flatten(), ignore_index=IGNORE)
            return {"loss": loss, "signal": labels != IGNORE}
        # ELECTRA: the generator restores [MASK]-ed tokens; its samples are what the discriminator must spot
        inputs, labels = mask_tokens(ids, vocab.mask_id, vocab.size - 1, c.mask_rate, self.masks, None, 1, 0)
        gen_logits, _ = self.generator_model(inputs.to(self.device))  # (B, T, V)
        labels = labels.to(self.device)
        gen_loss = F.cross_entropy(gen_logits.flatten(0, 1), labels.flatten(), ignore_index=IGNORE)
        chosen = labels != IGNORE
        with torch.no_grad():  # sampling is not differentiable: the generator learns from its MLM loss only
            probs = torch.softmax(gen_logits[chosen][:, :-1].float(), dim=-1).cpu()  # never sample [MASK]
            samples = torch.multinomial(probs, 1, generator=self.masks)[:, 0] if len(probs) else probs.long()
        original = ids.to(self.device)
        corrupted = original.clone()
        corrupted[chosen] = samples.to(self.device)
        disc_logits, _ = self.model(corrupted)  # (B, T, 1)
        disc_loss, replaced = electra_discriminator_loss(disc_logits[..., 0], corrupted, original)
        loss = gen_loss + c.electra_weight * disc_loss
        return {
            "loss": loss,
            "signal": torch.ones_like(original, dtype=torch.bool),
            "generator_loss": gen_loss,
            "discriminator_loss": disc_loss,
            "replaced_share": replaced.mean(),
        }

    def train_steps(self, n: int) -> dict[str, float]:
        """n optimiser steps; the last step's losses, the share of tokens with a loss, counters, held-out fill-in."""
        if n < 1:
            raise ValueError("train at least one step")
        self.model.train()
        started = time.perf_counter()
        for _ in range(n):
            out = self.losses(self._windows())
            self.optimizer.zero_grad(set_to_none=True)
            out["loss"].backward()
            self.optimizer.step()
            self.steps += 1
            signal = int(out["signal"].sum())
            self.tokens_seen += out["signal"].numel()
            self.signal_seen += signal
        self.seconds += time.perf_counter() - started
        metrics = {k: float(v.detach()) for k, v in out.items() if k != "signal"}
        return metrics | {
            "step": self.steps,
            "tokens_with_signal": signal / out["signal"].numel(),  # share of this step's tokens with a loss
            "tokens_seen": self.tokens_seen,
            "signal_seen": self.signal_seen,
            "fill_in": self.fill_in_accuracy(),
        }

    # ------------------------------------------------------------------ evaluation
    def heldout_windows(self, text: str | None = None, n_windows: int = 32) -> torch.Tensor:
        """Up to n_windows consecutive windows (N, T) of a held-out text (this trainer's own by default)."""
        ids = self.vocab.encode(self.heldout_text if text is None else text)
        t = self.config.block_size
        n = min(n_windows, len(ids) // t)
        if n < 1:
            raise ValueError(f"The held-out text needs at least {t} known characters (it has {len(ids)}).")
        return ids[: n * t].view(n, t)

    def blanks(self, windows: torch.Tensor, seed: int = 1234) -> torch.Tensor:
        """(N, T) bool: the blanks to fill, p of the characters, never the first of a window (CLM has no left)."""
        chosen = torch.rand(windows.shape, generator=torch.Generator().manual_seed(seed)) < self.config.mask_rate
        chosen[:, 0] = False
        return chosen

    @torch.no_grad()
    def fill_in(self, windows: torch.Tensor, blanks: torch.Tensor) -> torch.Tensor:
        """The model's guess (N, T) for every position, from the context its objective allows."""
        self.model.eval()
        if self.config.objective == "clm":
            logits, _ = self.model(windows.to(self.device))  # position t-1 predicts t from 0..t-1
            guesses = torch.cat([windows[:, :1].to(self.device), logits[:, :-1].argmax(-1)], dim=1)
        else:
            masked = windows.masked_fill(blanks, self.vocab.mask_id).to(self.device)
            model = self.generator_model if self.config.objective == "electra" else self.model
            model.eval()
            logits, _ = model(masked)
            guesses = logits[..., :-1].argmax(-1)  # [MASK] is never an answer
        return guesses.cpu()

    def fill_in_accuracy(self, text: str | None = None, seed: int = 1234) -> float:
        """Share of the blanks of a held-out text (default: this trainer's held-out tenth) filled correctly."""
        windows = self.heldout_windows(text)
        blanks = self.blanks(windows, seed)
        guesses = self.fill_in(windows, blanks)
        return float((guesses[blanks] == windows[blanks]).float().mean())

    @torch.no_grad()
    def detection_accuracy(self, seed: int = 1234) -> float:
        """ELECTRA: the discriminator's accuracy at telling replaced from original over every held-out token."""
        if self.config.objective != "electra":
            raise ValueError("only ELECTRA has a discriminator")
        windows = self.heldout_windows()
        g = torch.Generator().manual_seed(seed)
        self.model.eval()
        self.generator_model.eval()
        vocab = self.vocab
        inputs, labels = mask_tokens(windows, vocab.mask_id, vocab.size - 1, self.config.mask_rate, g, None, 1, 0)
        chosen = labels != IGNORE
        gen_logits, _ = self.generator_model(inputs.to(self.device))  # (N, T, V)
        probs = torch.softmax(gen_logits[chosen.to(self.device)][:, :-1].float(), -1).cpu()
        corrupted = windows.clone()
        corrupted[chosen] = torch.multinomial(probs, 1, generator=g)[:, 0]
        disc_logits, _ = self.model(corrupted.to(self.device))
        said_replaced = (disc_logits[..., 0] > 0).cpu()
        return float((said_replaced == (corrupted != windows)).float().mean())


def attention_pattern(objective: str, length: int) -> np.ndarray:
    """(T, T): 1 where query i may attend to key j in the objective's model: a lower triangle or a full square."""
    full = np.ones((length, length))
    return np.tril(full) if objective == "clm" else full


def loss_positions(objective: str, ids: torch.Tensor, mask_rate: float = 0.15, seed: int = 0) -> torch.Tensor:
    """(T,) bool: the tokens of one sequence that carry a loss under the objective (MLM: BERT's draw)."""
    if objective != "mlm":
        return torch.ones(ids.shape, dtype=torch.bool)
    _, labels = mask_tokens(ids, -1, 2, mask_rate, torch.Generator().manual_seed(seed))
    return labels != IGNORE


class ObjectiveComparison:
    """The three objectives from one seed on one text: the same initial windows, each its own model.

    train_steps(n) steps each and returns "<objective>.<metric>"."""

    def __init__(self, text: str, config: ObjectiveConfig, seed: int = 0, device: str = "cpu", objectives=OBJECTIVES):
        vocab = CharVocab(text)
        self.trainers = {
            name: ObjectiveTrainer(text, dataclasses.replace(config, objective=name), seed, device, vocab)
            for name in objectives
        }

    def train_steps(self, n: int) -> dict[str, float]:
        metrics = {}
        for name, trainer in self.trainers.items():
            metrics |= {f"{name}.{k}": v for k, v in trainer.train_steps(n).items()}
        return metrics


def counted_fill_in(train_text: str, heldout_text: str, left: int, right: int, blanks: int = 2000, seed: int = 1234):
    """How much the context a side allows tells about a blank, measured by counting (no network, no training).

    Each blank of the held-out text is guessed as the character seen most often in the training text between the
    same `left` characters before and `right` after; an unseen context backs off to one character less on each
    side, down to the most common character. -> (accuracy, blanks scored). left=4, right=0 is what a causal model
    may read; left=2, right=2 the same number of characters on both sides, what a masked model may read.
    """
    if left < 0 or right < 0 or left + right == 0:
        raise ValueError("Count at least one character of context.")
    tables = []
    for k in range(max(left, right), -1, -1):  # the full context first, then shorter ones
        n_left, n_right = min(left, k), min(right, k)
        end = len(train_text) - n_right
        seen = Counter(  # (left context, right context, the character between) -> count
            zip(
                (train_text[i - n_left : i] for i in range(n_left, end)),
                (train_text[i + 1 : i + 1 + n_right] for i in range(n_left, end)),
                train_text[n_left:end],
            )
        )
        best: dict[tuple[str, str], tuple[int, str]] = {}
        for (before, after, ch), count in seen.items():
            if count > best.get((before, after), (0, ""))[0]:
                best[(before, after)] = (count, ch)
        tables.append((n_left, n_right, {key: ch for key, (_, ch) in best.items()}))
    g = torch.Generator().manual_seed(seed)
    n = len(heldout_text)
    positions = torch.randint(max(left, 1), n - max(right, 1), (min(blanks, n),), generator=g).tolist()
    correct = 0
    for i in positions:
        for n_left, n_right, best in tables:
            guess = best.get((heldout_text[i - n_left : i], heldout_text[i + 1 : i + 1 + n_right]))
            if guess is not None:
                correct += guess == heldout_text[i]
                break
    return correct / len(positions), len(positions)
