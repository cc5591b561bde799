"""kNN-LM: the LM's next-token distribution mixed with one read off the nearest stored contexts.

Khandelwal et al. 2020, https://arxiv.org/abs/1911.00172, equations (1) and (2). For a test context x with
query q = f(x) (models/retrieval/datastore.py), its k nearest entries N = {(k_i, v_i)} and their squared L2
distances d_i = ||k_i − q||²:

    p_kNN(y | x) = Σ_{(k_i, v_i) ∈ N} 1[y = v_i] · exp(−d_i / T)  /  Σ_{(k_i, v_i) ∈ N} exp(−d_i / T)
    p(y | x)     = λ · p_kNN(y | x) + (1 − λ) · p_LM(y | x)

a softmax of negative distances, aggregated by token, then interpolated. Perplexity is exp(−mean log p(target)).
λ = 0 is the LM exactly; λ = 1 is the datastore alone (infinite perplexity as soon as a target has no neighbour).
Every token's probability is attributed to the stored contexts that fired: `neighbours` says which.

The LM runs once per text (`score_text`: its log-probabilities of the targets and the queries); λ, k and T only
change the cheap part (`mix`), so curves over λ and k cost one faiss search with the largest k.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from models.retrieval.datastore import Datastore, context_vectors, windows


@dataclass
class KnnLMConfig:
    lam: float = 0.25  # λ: the weight of the kNN distribution (the paper's best on WikiText-103)
    k: int = 16  # neighbours per query (the paper uses 1,024)
    temperature: float = 1.0  # T: divides the distances before the softmax (the paper: 1)

    def __post_init__(self):
        if not 0 <= self.lam <= 1:
            raise ValueError(f"λ is a mixing weight: between 0 and 1 (got {self.lam}).")
        if not 1 <= self.k <= 100_000:
            raise ValueError(f"k must be at least 1 neighbour (got {self.k}).")
        if not self.temperature > 0:
            raise ValueError(f"The temperature must be above 0 (got {self.temperature}).")


@dataclass
class TextScores:
    """What the LM alone says about a text: one row per predicted token."""

    tokens: list[int]  # (T+1,) the text's tokens
    queries: np.ndarray  # (T, d) the context vector before each target
    lm_logprobs: np.ndarray  # (T,) log p_LM(target)
    targets: np.ndarray  # (T,) the token that came next

    @property
    def perplexity(self) -> float:
        return float(np.exp(-self.lm_logprobs.mean()))


def score_text(model, tokenizer, text: str, window: int = 512) -> TextScores:
    """The LM's log-probability of every token of `text` after the first, and the queries, window by window."""
    return score_ids(model, tokenizer(text or "", add_special_tokens=False)["input_ids"], window)


def score_ids(model, ids: list[int], window: int = 512) -> TextScores:
    """`score_text` for token ids."""
    ids = list(ids)
    if len(ids) < 2:
        raise ValueError("The held-out text is empty: it needs at least two tokens.")
    device = next(model.parameters()).device
    queries, logprobs, targets = [], [], []
    for start, end in windows(len(ids), window):
        keys, lm = context_vectors(model, torch.tensor([ids[start:end]], device=device), with_logprobs=True)
        target = torch.tensor(ids[start + 1 : end], device=lm.device)  # (W-1,)
        queries.append(keys[:-1].numpy())
        logprobs.append(lm[:-1].gather(1, target[:, None])[:, 0].cpu().numpy())
        targets.append(target.cpu().numpy())
    lm_logprobs = np.concatenate(logprobs).astype(np.float64)
    return TextScores(ids, np.concatenate(queries), lm_logprobs, np.concatenate(targets))


def knn_probabilities(distances: np.ndarray, neighbour_values: np.ndarray, targets: np.ndarray, temperature: float):
    """(Q,) p_kNN(target): softmax of −distance / T over the k neighbours (Q, k), summed where the value is the
    target."""
    logits = -distances.astype(np.float64) / temperature  # (Q, k)
    weights = np.exp(logits - logits.max(axis=1, keepdims=True))
    weights /= weights.sum(axis=1, keepdims=True)  # (Q, k), each row sums to 1
    return (weights * (neighbour_values == targets[:, None])).sum(axis=1)  # (Q,)


def mix(lm_logprobs: np.ndarray, knn_probs: np.ndarray, lam: float) -> np.ndarray:
    """(Q,) log(λ · p_kNN + (1 − λ) · p_LM), in log space: λ = 0 returns the LM's log-probabilities exactly."""
    with np.errstate(divide="ignore"):
        return np.logaddexp(np.log(lam) + np.log(knn_probs), np.log1p(-lam) + lm_logprobs)


def perplexity(logprobs: np.ndarray) -> float:
    return float(np.exp(-np.mean(logprobs)))


@dataclass
class KnnLMResult:
    perplexity: float  # kNN-LM
    perplexity_lm: float  # the LM alone, on the same tokens
    logprobs: np.ndarray  # (T,) log p(target), mixed
    lm_logprobs: np.ndarray  # (T,) log p_LM(target)
    knn_probs: np.ndarray  # (T,) p_kNN(target)
    neighbours: np.ndarray  # (T, k) datastore entries that fired for each target, nearest first
    distances: np.ndarray  # (T, k) their squared L2 distances
    targets: np.ndarray  # (T,)
    tokens: list[int]  # the text's tokens (targets are tokens[1:])
    config: KnnLMConfig


def knn_lm_from_scores(store: Datastore, scores: TextScores, config: KnnLMConfig) -> KnnLMResult:
    """kNN-LM on a text the LM has already read (`score_text`): one search, the mixture, perplexities."""
    distances, neighbours = store.search(scores.queries, config.k)  # (T, k) each
    knn = knn_probabilities(distances, store.values[neighbours], scores.targets, config.temperature)
    mixed = mix(scores.lm_logprobs, knn, config.lam)
    return KnnLMResult(
        perplexity(mixed),
        scores.perplexity,
        mixed,
        scores.lm_logprobs,
        knn,
        neighbours,
        distances,
        scores.targets,
        scores.tokens,
        config,
    )


def knn_lm_eval(model, tokenizer, store: Datastore, text: str, lam=0.25, k=16, temperature=1.0) -> KnnLMResult:
    """Perplexity of `text` under kNN-LM with this datastore, and under the LM alone."""
    config = KnnLMConfig(lam, k, temperature)
    if config.k > len(store):
        raise ValueError(f"k = {config.k} neighbours, but the datastore holds {len(store):,} entries.")
    return knn_lm_from_scores(store, score_text(model, tokenizer, text), config)


def perplexity_grid(store: Datastore, scores: TextScores, lams, ks, temperature: float) -> np.ndarray:
    """(len(ks), len(lams)) kNN-LM perplexity for every (k, λ): one search with the largest k, then slices
    (faiss returns neighbours nearest first, so the first k of the largest search are the k nearest)."""
    k_max = max(ks)
    distances, neighbours = store.search(scores.queries, k_max)
    values = store.values[neighbours]
    grid = np.empty((len(ks), len(lams)))
    for row, k in enumerate(ks):
        knn = knn_probabilities(distances[:, :k], values[:, :k], scores.targets, temperature)
        for col, lam in enumerate(lams):
            grid[row, col] = perplexity(mix(scores.lm_logprobs, knn, lam))
    return grid


def knn_distribution(store: Datastore, query: np.ndarray, k: int, temperature: float) -> dict[int, float]:
    """The whole p_kNN(· | x) for one query (d,): {token: probability}, for showing where the mass goes."""
    distances, neighbours = store.search(query[None], k)
    logits = -distances[0].astype(np.float64) / temperature
    weights = np.exp(logits - logits.max())
    weights /= weights.sum()
    out: dict[int, float] = {}
    for value, weight in zip(store.values[neighbours[0]], weights):
        out[int(value)] = out.get(int(value), 0.0) + float(weight)
    return dict(sorted(out.items(), key=lambda item: -item[1]))
