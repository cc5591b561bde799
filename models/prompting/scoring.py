"""Label-word scoring: log p(label word | prompt) for many prompts that share a prefix, in batched forward passes.

A label word w tokenises to w_1 … w_m (" terrible" is two tokens for SmolLM2). Its score is the full sequence
log-probability, not the first token's:

    log p(w | prompt) = Σ_t log p(w_t | prompt, w_<t)            (t = 1 … m)

Every prompt of a few-shot evaluation is   prefix (the demonstrations, the same for all)  +  query  +  label word.
So the prefix runs once and its keys and values (the KV cache) are reused by every query; the queries run in
batches, left-padded so that they all end at the same position. Labels whose tokens before the last (their
"stem") are equal share one sequence: query + stem; every one-token label shares the query alone. Only the last
len(stem) + 1 positions go through the output layer (`logits_to_keep`).

`score_labels` is that engine; `score_labels_naive` is the textbook version (one forward pass of the whole
prompt per query and label word), tested equal (tests/models/test_prompting.py) and timed against it
(benchmarks/prompting.py).
"""

from __future__ import annotations

import copy
import inspect
from collections import OrderedDict

import torch


class ScoreCache:
    """Per-prompt results kept for reuse, {(prefix ids, query ids, label ids): log-probs}, the oldest dropped first.

    One cache per model: the caller owns it (a session, or a page's shared result); models/ keeps no global state.
    """

    def __init__(self, max_entries: int = 20_000):
        self.max_entries = max_entries
        self.rows: OrderedDict[tuple, torch.Tensor] = OrderedDict()
        self.hits = 0

    def get(self, key: tuple) -> torch.Tensor | None:
        row = self.rows.get(key)
        if row is not None:
            self.rows.move_to_end(key)
            self.hits += 1
        return row

    def put(self, key: tuple, row: torch.Tensor) -> None:
        self.rows[key] = row
        while len(self.rows) > self.max_entries:
            self.rows.popitem(last=False)


def _cache_argument(model) -> str:
    """transformers 5 names the KV cache argument `cache`, 4.x `past_key_values`."""
    return "cache" if "cache" in inspect.signature(model.forward).parameters else "past_key_values"


def _output_cache(output):
    return getattr(output, "cache", None) or getattr(output, "past_key_values", None)


@torch.no_grad()
def prefix_cache(model, prefix_ids: list[int]):
    """The KV cache of the shared prefix (None for an empty prefix): computed once per evaluation."""
    if not prefix_ids:
        return None
    device = next(model.parameters()).device
    output = model(torch.tensor([prefix_ids], device=device), use_cache=True, logits_to_keep=1)
    return _output_cache(output)


@torch.no_grad()
def _score_stem_group(model, cache, n_prefix, sequences, label_tails, stem_len, pad_id, batch_size):
    """Rows of query + stem that share one stem length; returns [n_sequences, len(label_tails[0])] log-probs.

    label_tails[k]: the tokens whose log-probs to read after the stem (the label's tokens, stem included).
    """
    device = next(model.parameters()).device
    cache_name = _cache_argument(model)
    out = []
    for start in range(0, len(sequences), batch_size):
        batch = sequences[start : start + batch_size]
        width = max(len(s) for s in batch)
        ids = torch.full((len(batch), width), pad_id, dtype=torch.long)
        mask = torch.zeros((len(batch), n_prefix + width), dtype=torch.long)
        mask[:, :n_prefix] = 1
        positions = torch.zeros((len(batch), width), dtype=torch.long)
        for row, seq in enumerate(batch):  # left padding: every row ends at the last column
            pad = width - len(seq)
            ids[row, pad:] = torch.tensor(seq)
            mask[row, n_prefix + pad :] = 1
            positions[row, pad:] = torch.arange(n_prefix, n_prefix + len(seq))
        kwargs = {}
        if cache is not None:
            batch_cache = copy.deepcopy(cache)
            batch_cache.batch_repeat_interleave(len(batch))
            kwargs[cache_name] = batch_cache
        logits = model(
            ids.to(device),
            attention_mask=mask.to(device),
            position_ids=positions.to(device),
            use_cache=cache is not None,
            logits_to_keep=stem_len + 1,
            **kwargs,
        ).logits  # [B, stem_len + 1, vocab]: the answer slot, then after each stem token
        out.append(logits.float().log_softmax(-1).cpu())
    log_probs = torch.cat(out)  # [n_sequences, stem_len + 1, vocab]
    return [
        torch.stack([log_probs[:, t, tail[t]] for t in range(stem_len + 1)], -1).sum(-1)  # [n_sequences]
        for tail in label_tails
    ]


def score_labels(
    model,
    prefix_ids: list[int],
    query_ids: list[list[int]],
    label_ids: list[list[int]],
    batch_size: int = 16,
    pad_id: int = 0,
    cache: ScoreCache | None = None,
) -> torch.Tensor:
    """log p(label | prefix + query) for every query and label: [n_queries, n_labels], summed over label tokens."""
    if any(not label for label in label_ids):
        raise ValueError("A label word tokenises to nothing; give every label word at least one visible character.")
    scores = torch.full((len(query_ids), len(label_ids)), float("nan"))
    key_prefix, key_labels = tuple(prefix_ids), tuple(tuple(label) for label in label_ids)
    todo = []  # queries not in the cache
    for i, query in enumerate(query_ids):
        row = cache.get((key_prefix, tuple(query), key_labels)) if cache is not None else None
        if row is not None:
            scores[i] = row
        else:
            todo.append(i)
    if todo:
        kv = prefix_cache(model, prefix_ids)
        stems: dict[tuple, list[int]] = {}  # stem -> the labels that share it
        for k, label in enumerate(label_ids):
            stems.setdefault(tuple(label[:-1]), []).append(k)
        for stem, members in stems.items():
            sequences = [query_ids[i] + list(stem) for i in todo]
            tails = [label_ids[k] for k in members]
            columns = _score_stem_group(model, kv, len(prefix_ids), sequences, tails, len(stem), pad_id, batch_size)
            for k, column in zip(members, columns):
                scores[todo, k] = column
        if cache is not None:
            for i in todo:
                cache.put((key_prefix, tuple(query_ids[i]), key_labels), scores[i].clone())
    return scores


@torch.no_grad()
def score_labels_naive(model, prefix_ids, query_ids, label_ids) -> torch.Tensor:
    """The textbook version: one forward pass over prefix + query + label per query and label word."""
    device = next(model.parameters()).device
    scores = torch.zeros((len(query_ids), len(label_ids)))
    for i, query in enumerate(query_ids):
        for k, label in enumerate(label_ids):
            ids = list(prefix_ids) + list(query) + list(label)
            log_probs = model(torch.tensor([ids], device=device)).logits[0].float().log_softmax(-1)  # [T, vocab]
            start = len(ids) - len(label)  # the first label token's position; predicted at start - 1
            scores[i, k] = sum(float(log_probs[start - 1 + t, tok]) for t, tok in enumerate(label))
    return scores


@torch.no_grad()
def label_token_logprobs(model, context_ids: list[int], label_ids: list[int]) -> list[float]:
    """log p(w_t | context, w_<t) for each token of one label word (their sum is its score), one forward pass."""
    device = next(model.parameters()).device
    ids = torch.tensor([list(context_ids) + list(label_ids)], device=device)
    log_probs = model(ids).logits[0, len(context_ids) - 1 : -1].float().log_softmax(-1)  # [len(label), vocab]
    return [float(log_probs[t, tok]) for t, tok in enumerate(label_ids)]
