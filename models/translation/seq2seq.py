"""A tiny encoder-decoder with attention, trained live: attention as a soft word alignment.

Bahdanau et al. 2015 (https://arxiv.org/abs/1409.0473) let the decoder look back at every source word; Luong et al.
2015 (https://arxiv.org/abs/1508.04025) score the look with a dot product after the decoder's RNN step:

    h_1..h_S  = BiGRU(source embeddings), projected to d          (the memory, one vector per source word)
    s_t       = GRU(s_{t-1}, embedding(y_{t-1}))                   (the decoder state)
    a_t       = softmax(s_t W_q · h / sqrt(d))                      (S,): a distribution over the source words
    c_t       = sum_s a_t[s] h_s                                   (the context)
    p(y_t)    = softmax(W_o tanh(W_c [s_t; c_t]))

Row t of the attention matrix says which source words the decoder read to write target word t: a soft alignment,
drawn beside IBM Model 1's. The trainer is the kit's step function (`train_steps(n) -> metrics`), with corpus BLEU
of greedy translations of held-out pairs as a metric.
"""

from __future__ import annotations

import math
import random
import time
from dataclasses import dataclass

import torch
from torch import nn

from models.translation.bleu import corpus_bleu

PAD, BOS, EOS, UNK = "<pad>", "<s>", "</s>", "<unk>"


@dataclass
class Seq2SeqConfig:
    d_model: int = 48  # embedding and hidden size
    lr: float = 0.01  # Adam's learning rate
    batch_size: int = 32  # sentence pairs per step
    heldout: int = 40  # pairs kept out of training, for BLEU
    max_len: int = 14  # the longest output while decoding (tokens, </s> included)
    seed: int = 0

    def __post_init__(self):
        if not 8 <= self.d_model <= 256:
            raise ValueError(f"d_model must be between 8 and 256 (got {self.d_model}).")
        if not 0 < self.lr <= 0.1:
            raise ValueError(f"The learning rate must be in (0, 0.1] (got {self.lr}).")
        if not 1 <= self.batch_size <= 512:
            raise ValueError(f"The batch size must be between 1 and 512 (got {self.batch_size}).")
        if not 1 <= self.heldout <= 1000:
            raise ValueError(f"Between 1 and 1,000 held-out pairs, please (got {self.heldout}).")
        if not 2 <= self.max_len <= 60:
            raise ValueError(f"The longest output must be between 2 and 60 tokens (got {self.max_len}).")


class Vocabulary:
    def __init__(self, sentences: list[list[str]]):
        self.itos = [PAD, BOS, EOS, UNK] + sorted({w for s in sentences for w in s})
        self.stoi = {w: k for k, w in enumerate(self.itos)}

    def encode(self, words: list[str]) -> list[int]:
        return [self.stoi.get(w, 3) for w in words]

    def decode(self, ids: list[int]) -> list[str]:
        return [self.itos[i] for i in ids if i > 2]  # <pad>, <s>, </s> dropped


def dot_product_attention(query: torch.Tensor, memory: torch.Tensor, source_mask: torch.Tensor):
    """query (B, T, d), memory (B, S, d), source_mask (B, S) True on real words -> context (B, T, d), weights
    (B, T, S): softmax(q k^T / sqrt(d)) with padding masked out."""
    scores = query @ memory.transpose(1, 2) / math.sqrt(query.shape[-1])  # (B, T, S)
    scores = scores.masked_fill(~source_mask[:, None, :], float("-inf"))
    weights = torch.softmax(scores, dim=-1)  # (B, T, S), rows sum to 1
    return weights @ memory, weights


class TinySeq2Seq(nn.Module):
    def __init__(self, source_size: int, target_size: int, d_model: int):
        super().__init__()
        self.source_embedding = nn.Embedding(source_size, d_model, padding_idx=0)
        self.target_embedding = nn.Embedding(target_size, d_model, padding_idx=0)
        self.encoder = nn.GRU(d_model, d_model, batch_first=True, bidirectional=True)
        self.memory_projection = nn.Linear(2 * d_model, d_model)
        self.decoder = nn.GRU(d_model, d_model, batch_first=True)
        self.query_projection = nn.Linear(d_model, d_model, bias=False)  # W_q
        self.combine = nn.Linear(2 * d_model, d_model)  # W_c
        self.output = nn.Linear(d_model, target_size)  # W_o

    def encode(self, source: torch.Tensor):
        """source (B, S) -> memory (B, S, d), the decoder's first state (1, B, d), source_mask (B, S)."""
        source_mask = source != 0
        states, _ = self.encoder(self.source_embedding(source))  # (B, S, 2d)
        memory = self.memory_projection(states)  # (B, S, d)
        mean = (memory * source_mask[..., None]).sum(1) / source_mask.sum(1, keepdim=True).clamp(min=1)  # (B, d)
        return memory, torch.tanh(mean)[None], source_mask

    def decode(self, target_in: torch.Tensor, memory, state, source_mask):
        """target_in (B, T) -> logits (B, T, V), attention (B, T, S), last state (1, B, d)."""
        decoder_states, state = self.decoder(self.target_embedding(target_in), state)  # (B, T, d)
        context, attention = dot_product_attention(self.query_projection(decoder_states), memory, source_mask)
        combined = torch.tanh(self.combine(torch.cat([decoder_states, context], dim=-1)))  # (B, T, d)
        return self.output(combined), attention, state

    def forward(self, source: torch.Tensor, target_in: torch.Tensor):
        memory, state, source_mask = self.encode(source)
        logits, attention, _ = self.decode(target_in, memory, state, source_mask)
        return logits, attention


def _padded(rows: list[list[int]]) -> torch.Tensor:
    width = max(len(r) for r in rows)
    return torch.tensor([r + [0] * (width - len(r)) for r in rows])


class Seq2SeqTrainer:
    """Trains TinySeq2Seq on (foreign, English) pairs, foreign -> English; `train_steps(n)` for the kit."""

    def __init__(self, pairs: list[tuple[list[str], list[str]]], config: Seq2SeqConfig | None = None):
        self.config = config = config or Seq2SeqConfig()
        if len(pairs) < config.heldout + 10:
            raise ValueError(f"{len(pairs)} pairs: the tiny model needs at least {config.heldout + 10}.")
        shuffled = list(pairs)
        random.Random(config.seed).shuffle(shuffled)
        self.heldout, self.train_pairs = shuffled[: config.heldout], shuffled[config.heldout :]
        self.source_vocab = Vocabulary([f for f, _ in self.train_pairs])
        self.target_vocab = Vocabulary([e for _, e in self.train_pairs])
        torch.manual_seed(config.seed)
        self.model = TinySeq2Seq(len(self.source_vocab.itos), len(self.target_vocab.itos), config.d_model)
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=config.lr)
        self.generator = torch.Generator().manual_seed(config.seed)
        self.steps = 0

    def batch(self, pairs):
        """(source (B, S), decoder input (B, T) = <s> e, decoder target (B, T) = e </s>)."""
        source = _padded([self.source_vocab.encode(f) for f, _ in pairs])
        target_in = _padded([[1] + self.target_vocab.encode(e) for _, e in pairs])
        target_out = _padded([self.target_vocab.encode(e) + [2] for _, e in pairs])
        return source, target_in, target_out

    def loss(self, pairs) -> torch.Tensor:
        source, target_in, target_out = self.batch(pairs)
        logits, _ = self.model(source, target_in)
        return nn.functional.cross_entropy(logits.flatten(0, 1), target_out.flatten(), ignore_index=0)

    def train_steps(self, n: int) -> dict[str, float]:
        self.model.train()
        losses = []
        for _ in range(n):
            picks = torch.randint(len(self.train_pairs), (self.config.batch_size,), generator=self.generator)
            loss = self.loss([self.train_pairs[k] for k in picks.tolist()])
            self.optimizer.zero_grad()
            loss.backward()
            self.optimizer.step()
            losses.append(loss.item())
            self.steps += 1
        return {"loss": sum(losses) / len(losses), "heldout_bleu": self.heldout_bleu()}

    def train_for(self, seconds: float, chunk: int = 20) -> dict[str, float]:
        """Train in chunks until `seconds` have passed (for tests and benchmarks)."""
        start, metrics = time.perf_counter(), {}
        while time.perf_counter() - start < seconds:
            metrics = self.train_steps(chunk)
        return metrics

    # ---- decoding -----------------------------------------------------------------------------------------------
    @torch.no_grad()
    def greedy(self, sources: list[list[str]]) -> list[list[str]]:
        """Greedy translations of a batch of foreign sentences."""
        self.model.eval()
        memory, state, source_mask = self.model.encode(_padded([self.source_vocab.encode(f) for f in sources]))
        token = torch.full((len(sources), 1), 1)
        done = torch.zeros(len(sources), dtype=torch.bool)
        outputs = []
        for _ in range(self.config.max_len):
            logits, _, state = self.model.decode(token, memory, state, source_mask)
            token = logits[:, -1].argmax(-1, keepdim=True)  # (B, 1)
            outputs.append(token.masked_fill(done[:, None], 0))
            done |= token[:, 0] == 2
            if done.all():
                break
        ids = torch.cat(outputs, dim=1).tolist()
        return [self.target_vocab.decode(row[: row.index(2)] if 2 in row else row) for row in ids]

    def heldout_bleu(self) -> float:
        hypotheses = self.greedy([f for f, _ in self.heldout])
        return corpus_bleu([" ".join(h) for h in hypotheses], [" ".join(e) for _, e in self.heldout])

    @torch.no_grad()
    def next_log_probs(self, foreign: list[str]):
        """A step function for beam search: prefixes of target ids -> (n, V) log p(next token)."""
        self.model.eval()
        memory, state, source_mask = self.model.encode(_padded([self.source_vocab.encode(foreign)]))

        def step(prefixes: list[list[int]]) -> torch.Tensor:
            n = len(prefixes)
            target_in = torch.tensor([[1] + p for p in prefixes])  # (n, t + 1): prefixes share a length
            logits, _, _ = self.model.decode(
                target_in, memory.expand(n, -1, -1), state.expand(-1, n, -1).contiguous(), source_mask.expand(n, -1)
            )
            return torch.log_softmax(logits[:, -1].float(), dim=-1)  # (n, V)

        return step

    @torch.no_grad()
    def attention(self, foreign: list[str], english: list[str]) -> torch.Tensor:
        """(len(english) + 1, len(foreign)): the attention of each output word (then </s>), teacher-forced."""
        self.model.eval()
        source, target_in, _ = self.batch([(foreign, english)])
        _, attention = self.model(source, target_in)
        return attention[0]
