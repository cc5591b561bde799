"""The kNN-LM datastore: every context of a text as a vector, with the token that came next, in a faiss index.

Khandelwal et al. 2020, "Generalization through Memorization: Nearest Neighbor Language Models",
https://arxiv.org/abs/1911.00172. For every position t of the datastore's texts, one entry

    key_t   = f(w_1 .. w_t)     the LM's context vector: the input of the last layer's feed-forward network,
                                after its layer norm (the paper's best key, section 5)
    value_t = w_{t+1}           the token that followed

and a query at test time is the same f of the test context. Neighbours are found by squared L2 distance
||key − query||², the paper's metric, here with faiss's exact IndexFlatL2 (the paper uses an approximate IVFPQ
index over 103M keys; a few thousand need no approximation). The store costs N · d · 4 bytes: 2.3 kB per token for
SmolLM2 (d = 576), 103M tokens would be 237 GB, which is why the paper quantises its keys.

The vectors are read with a forward pre-hook on the last layer's `mlp` (Llama, Mistral, Qwen, GPT-2 and GPT-NeoX
layouts). A model shared between threads stays usable: the hook acts only in the thread that placed it.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

import numpy as np
import torch

MAX_DATASTORE_BYTES = 64_000_000  # keys in memory: about 27,000 SmolLM2 tokens


@dataclass
class DatastoreConfig:
    max_tokens: int = 2048  # entries at most (one per token that has a context before it)
    window: int = 512  # tokens read at once: a context sees at most this many tokens before it
    max_bytes: int = MAX_DATASTORE_BYTES  # the keys' memory limit, checked before anything is computed

    def __post_init__(self):
        if not 1 <= self.max_tokens <= 10_000_000:
            raise ValueError(f"The datastore needs between 1 and 10,000,000 tokens (got {self.max_tokens}).")
        if not 2 <= self.window <= 8192:
            raise ValueError(f"The window must be 2 to 8,192 tokens (got {self.window}).")


def _last_ffn(model) -> torch.nn.Module:
    """The last transformer layer's feed-forward block, whatever the model's family calls it."""
    for path in ("model.layers", "transformer.h", "gpt_neox.layers", "model.decoder.layers"):
        layers = model
        for name in path.split("."):
            layers = getattr(layers, name, None)
        if layers is not None and len(layers) and hasattr(layers[-1], "mlp"):
            return layers[-1].mlp
    raise ValueError(f"Cannot find the last layer's feed-forward block (mlp) of {type(model).__name__}.")


class _KeysRead(Exception):
    """Raised by the hook once the keys are read, when the logits are not needed (skips the LM head)."""


@torch.inference_mode()
def context_vectors(model, input_ids: torch.Tensor, with_logprobs: bool = False):
    """(T, d) float32 keys (on the CPU) for the T positions of `input_ids` (1, T); with `with_logprobs`, also the
    LM's (T, V) log-probabilities of the next token (on the model's device). Without them the forward pass stops at
    the last FFN."""
    captured = {}
    owner = threading.get_ident()

    def read_keys(module, args):
        if threading.get_ident() != owner:  # another session's forward pass on the same shared model
            return
        captured["keys"] = args[0][0].detach().float()  # (T, d)
        if not with_logprobs:
            raise _KeysRead

    handle = _last_ffn(model).register_forward_pre_hook(read_keys)
    try:
        out = model(input_ids)
    except _KeysRead:
        out = None
    finally:
        handle.remove()
    keys = captured["keys"].cpu()
    if not with_logprobs:
        return keys
    return keys, torch.log_softmax(out.logits[0].float(), dim=-1)


def windows(n_tokens: int, window: int) -> list[tuple[int, int]]:
    """[start, end) spans covering 0..n_tokens, each overlapping the previous by one token, so that every token
    after the first is predicted once (by the window that holds the token before it)."""
    spans, start = [], 0
    while start < n_tokens - 1:
        spans.append((start, min(start + window, n_tokens)))
        start += window - 1
    return spans


def check_size(n_entries: int, dim: int, max_bytes: int = MAX_DATASTORE_BYTES) -> int:
    """The keys' bytes (N · d · 4), or a ValueError that says the size and the limit before anything is built."""
    size = n_entries * dim * 4
    if size > max_bytes:
        fits = max_bytes // (dim * 4)
        raise ValueError(
            f"A datastore of {n_entries:,} tokens × {dim} dimensions × 4 bytes = {size / 1e6:,.0f} MB is over the "
            f"limit of {max_bytes / 1e6:,.0f} MB: use at most {fits:,} tokens."
        )
    return size


@dataclass
class Datastore:
    keys: np.ndarray  # (N, d) float32 context vectors
    values: np.ndarray  # (N,) int64: the token that followed each context
    tokens: np.ndarray  # (M,) every token of the texts, one after another
    positions: np.ndarray  # (N,) where each entry's value token is in `tokens`
    text_starts: np.ndarray  # (texts,) where each text starts in `tokens`
    index: object = field(repr=False)  # faiss.IndexFlatL2 over the keys

    @classmethod
    def build(cls, model, tokenizer, texts: list[str], config: DatastoreConfig | None = None) -> Datastore:
        """Read `texts` with the LM, window by window, and index every context (up to config.max_tokens)."""
        texts = [texts] if isinstance(texts, str) else list(texts)
        streams = [tokenizer(t, add_special_tokens=False)["input_ids"] if t and t.strip() else [] for t in texts]
        return cls.build_from_ids(model, streams, config)

    @classmethod
    def build_from_ids(cls, model, streams: list[list[int]], config: DatastoreConfig | None = None) -> Datastore:
        """The same from token ids: one list per text (a context never reaches back into the text before)."""
        config = config or DatastoreConfig()
        kept, budget = [], config.max_tokens + 1  # N entries need N + 1 tokens of one text
        for ids in streams:
            ids = list(ids)[:budget]
            if len(ids) >= 2:
                kept.append(ids)
                budget -= len(ids) - 1
            if budget <= 1:
                break
        if not kept:
            raise ValueError("The datastore's text is empty: it needs at least two tokens.")
        check_size(sum(len(ids) - 1 for ids in kept), model.config.hidden_size, config.max_bytes)
        device = next(model.parameters()).device
        keys, values, positions, starts, offset = [], [], [], [], 0
        for ids in kept:
            starts.append(offset)
            for start, end in windows(len(ids), config.window):
                chunk = torch.tensor([ids[start:end]], device=device)  # (1, W)
                keys.append(context_vectors(model, chunk)[:-1].numpy())  # (W-1, d): contexts with a next token
                values.extend(ids[start + 1 : end])
                positions.extend(range(offset + start + 1, offset + end))
            offset += len(ids)
        return cls.from_arrays(
            np.concatenate(keys),
            np.asarray(values, dtype=np.int64),
            np.asarray([t for ids in kept for t in ids], dtype=np.int64),
            np.asarray(positions, dtype=np.int64),
            np.asarray(starts, dtype=np.int64),
        )

    @classmethod
    def from_arrays(cls, keys, values, tokens=None, positions=None, text_starts=None) -> Datastore:
        """A datastore over given keys (N, d) and values (N,) (context bookkeeping optional)."""
        import faiss

        keys = np.ascontiguousarray(keys, dtype=np.float32)
        index = faiss.IndexFlatL2(keys.shape[1])
        index.add(keys)
        n = len(keys)
        tokens = np.asarray(values if tokens is None else tokens, dtype=np.int64)
        positions = np.arange(n) if positions is None else positions
        starts = np.zeros(1, dtype=np.int64) if text_starts is None else text_starts
        return cls(keys, np.asarray(values, dtype=np.int64), tokens, positions, starts, index)

    def __len__(self) -> int:
        return len(self.values)

    @property
    def nbytes(self) -> int:
        """What the store holds in memory: keys, values and the faiss index's own copy of the keys."""
        return self.keys.nbytes + self.values.nbytes + self.index.ntotal * self.index.d * 4

    def subset(self, n: int) -> Datastore:
        """The datastore of the first n entries (the same keys: a smaller store costs no new forward pass)."""
        return Datastore.from_arrays(self.keys[:n], self.values[:n], self.tokens, self.positions[:n], self.text_starts)

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """(squared L2 distances (Q, k), entry indices (Q, k)), nearest first."""
        if not 1 <= k <= len(self):
            raise ValueError(
                f"k = {k} neighbours, but the datastore holds {len(self):,} entries: use k ≤ {len(self):,}."
            )
        distances, ids = self.index.search(np.ascontiguousarray(queries, dtype=np.float32), k)
        return distances, ids

    def context(self, entry: int, tokenizer, width: int = 12) -> tuple[str, str]:
        """(the text before entry's value token, the value token) — what a neighbour remembers."""
        pos = int(self.positions[entry])
        text_start = int(self.text_starts[self.text_starts <= pos].max())
        before = self.tokens[max(text_start, pos - width) : pos].tolist()
        return tokenizer.decode(before), tokenizer.decode([int(self.tokens[pos])])
