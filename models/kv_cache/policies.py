"""KV-cache eviction policies: which cached tokens to keep when the cache must shrink to a budget.

Each policy scores the tokens of one layer's cache per KV head and keeps the best `m` (always in position order):

- FullCache: keeps everything (the reference).
- SlidingWindow: the last m tokens (window attention; Beltagy et al. 2020).
- StreamingLLM (Xiao et al. 2023, https://arxiv.org/abs/2309.17453): the first `sinks` tokens (the attention
  sinks) + the last m - sinks. Positions inside the cache by default, as in the paper (keys re-rotated).
- H2O (Zhang et al. 2023, https://arxiv.org/abs/2306.14048): the last m * recent_ratio tokens + the "heavy
  hitters": the largest attention accumulated since each token arrived (summed over queries, averaged over the
  query heads that share the KV head).
- SnapKV (Li et al. 2024, https://arxiv.org/abs/2404.14469): the attention of the last `window` queries,
  averaged over those queries, smoothed by an average pool of width `kernel`; the window itself is always kept.
- PyramidKV (Cai et al. 2024, https://arxiv.org/abs/2406.02069): SnapKV's score with a budget per layer that falls
  linearly from bottom to top (same total), `layer_budgets` below.
- RKV (Cai et al. 2025, https://arxiv.org/abs/2505.24133): importance (window attention, max-pooled) minus
  redundancy (mean cosine similarity of a key to the other keys, softmaxed): lam * importance - (1-lam) * redund.

Two ways to hold a budget (the lecture's distinction):

- **compression at prefill** (SnapKV, PyramidKV, as in their papers): the whole prompt is read with full attention,
  its last `window` tokens (the question, in a question-answering prompt) score every earlier token, the cache is
  cut to the budget ONCE, and decoding then appends to it without evicting again (`at_prefill=True`, the default);
- **eviction during decoding** (H2O, StreamingLLM, the window, R-KV): the cache is pruned each time it overflows
  while the text streams. SnapKV and PyramidKV can run this way too (`at_prefill=False`, "SnapKV (streaming)"),
  as kvpress's DecodingPress does: their scorer then runs at every overflow.

The scorers follow kvpress (NVIDIA/kvpress, presses/*.py); tests/models/test_kv_cache.py compares the kept
positions with a transcription of its formulas, at prefill on a real forward and on random caches.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F


@dataclass
class LayerView:
    """What a policy may look at in one layer's cache (batch 1)."""

    positions: torch.Tensor  # (KV, n) original positions of the cached tokens, ascending
    keys: torch.Tensor  # (KV, n, D) cached keys, RoPE applied at the original positions
    attention_sum: torch.Tensor  # (KV, n) attention each token has received so far (H2O)
    window_queries: torch.Tensor  # (H, W, D) the last W queries (RoPE applied), W may be < window
    window_positions: torch.Tensor  # (W,) their positions


def _keep_top(scores: torch.Tensor, m: int, positions: torch.Tensor) -> torch.Tensor:
    """Indices (KV, m) of the m best scores per head, in position order."""
    idx = scores.topk(m, dim=-1).indices  # (KV, m)
    order = positions.gather(1, idx).argsort(dim=-1)
    return idx.gather(1, order)


def window_attention(view: LayerView) -> torch.Tensor:
    """Softmax attention of the window queries over the cache, causal by position: (H, W, n)."""
    n_heads, _, head_dim = view.window_queries.shape
    group = n_heads // view.keys.shape[0]
    keys = view.keys.repeat_interleave(group, dim=0)  # (H, n, D)
    scores = view.window_queries @ keys.transpose(1, 2) / math.sqrt(head_dim)  # (H, W, n)
    future = view.positions.repeat_interleave(group, 0)[:, None, :] > view.window_positions[:, None]
    return scores.masked_fill(future, float("-inf")).softmax(dim=-1)


def per_kv_head(x: torch.Tensor, n_kv: int) -> torch.Tensor:
    """Average the query heads that share a KV head: (H, ...) -> (KV, ...)."""
    return x.view(n_kv, x.shape[0] // n_kv, *x.shape[1:]).mean(1)


@dataclass
class FullCache:
    """No eviction: the cache grows with the text."""

    name: str = "Full cache"
    rerotate: bool = False  # keys keep their original positions

    def keep(self, view: LayerView, m: int, layer: int, n_layers: int) -> torch.Tensor:
        n_kv, n = view.positions.shape
        return torch.arange(n, device=view.positions.device).expand(n_kv, n)


@dataclass
class StreamingLLM:
    """Attention sinks + a recent window."""

    sinks: int = 4  # the first tokens, always kept
    positions: str = "cache"  # "cache": positions inside the cache (paper); "original": text positions
    name: str = ""

    def __post_init__(self):
        if self.sinks < 0:
            raise ValueError("sinks must be 0 or more")
        if self.positions not in ("cache", "original"):
            raise ValueError('positions is "cache" or "original"')
        self.name = self.name or (f"StreamingLLM ({self.sinks} sinks)" if self.sinks else "Window")

    @property
    def rerotate(self) -> bool:
        return self.positions == "cache" and self.sinks > 0

    def keep(self, view: LayerView, m: int, layer: int, n_layers: int) -> torch.Tensor:
        n_kv, n = view.positions.shape
        if m <= self.sinks:
            raise ValueError(f"A budget of {m} leaves no room next to {self.sinks} sink tokens.")
        dev = view.positions.device
        idx = torch.cat(
            [
                torch.arange(self.sinks, device=dev),
                torch.arange(n - (m - self.sinks), n, device=dev),
            ]
        )
        return idx.expand(n_kv, m)


def SlidingWindow(positions: str = "original") -> StreamingLLM:  # noqa: N802 - reads like a class
    """The last `budget` tokens only: StreamingLLM with no sinks."""
    return StreamingLLM(sinks=0, positions=positions, name="Window")


@dataclass
class H2O:
    """Heavy hitters (largest accumulated attention) + a recent window."""

    recent_ratio: float = 0.5  # share of the budget for the most recent tokens
    name: str = "H2O"
    rerotate: bool = False

    def keep(self, view: LayerView, m: int, layer: int, n_layers: int) -> torch.Tensor:
        n = view.positions.shape[1]
        recent = min(m, max(1, int(m * self.recent_ratio)))
        scores = view.attention_sum.clone()
        scores[:, n - recent :] = float("inf")  # the recent window is always kept
        return _keep_top(scores, m, view.positions)


def snapkv_scores(view: LayerView, kernel: int) -> torch.Tensor:
    """SnapKV's score per KV head (KV, n): window attention averaged over queries, average-pooled over the
    tokens before the window (the window itself scores +inf: it is always kept)."""
    n_kv, n = view.positions.shape
    history = n - int((view.positions[0] >= view.window_positions.min()).sum())
    if history == 0:  # the budget is all window: the most recent tokens win
        return view.positions.float()
    attention = window_attention(view).mean(dim=1)[:, :history]  # (H, history)
    pooled = F.avg_pool1d(attention[:, None], kernel, stride=1, padding=kernel // 2)[:, 0]
    scores = torch.full((n_kv, n), float("inf"), device=view.keys.device)
    scores[:, :history] = per_kv_head(pooled, n_kv)
    return scores


@dataclass
class SnapKV:
    """Keep the tokens the last `window` queries attend to most."""

    window: int = 8  # observation window: the last queries, always kept
    kernel: int = 5  # width of the average pool that smooths the scores
    at_prefill: bool = True  # compress the prompt once after prefill (paper); False: at every overflow
    name: str = ""
    rerotate: bool = False

    def __post_init__(self):
        self.name = self.name or ("SnapKV" if self.at_prefill else "SnapKV (streaming)")

    def keep(self, view: LayerView, m: int, layer: int, n_layers: int) -> torch.Tensor:
        return _keep_top(snapkv_scores(view, self.kernel), m, view.positions)


def layer_budgets(budget: int, n_layers: int, length: int, window: int, beta: float) -> list[int]:
    """PyramidKV's per-layer budgets (kvpress's get_layer_budget, with an average of `budget` per layer).

    An arithmetic sequence from max_num at layer 0 to min_num = budget / beta at the top, clamped to the
    cache length; where that is impossible (min_num below the window) every layer gets `budget` (SnapKV).
    """
    min_num = budget / beta
    max_num = 2 * budget - min_num
    if max_num >= length - window:
        max_num = length - window
        min_num = 2 * budget - max_num
    if not (length >= max_num >= min_num >= window):
        return [budget] * n_layers
    step = (max_num - min_num) / (n_layers - 1)
    return [round(max_num - layer * step) for layer in range(n_layers)]


@dataclass
class PyramidKV:
    """SnapKV with more tokens in the lower layers and fewer in the upper ones."""

    window: int = 8  # observation window (SnapKV's)
    kernel: int = 5  # SnapKV's pooling width
    beta: float = 4.0  # steepness: the top layer keeps about budget / beta
    at_prefill: bool = True  # compress the prompt once after prefill (paper); False: at every overflow
    name: str = ""
    rerotate: bool = False

    def __post_init__(self):
        self.name = self.name or ("PyramidKV" if self.at_prefill else "PyramidKV (streaming)")

    def budgets(self, budget: int, n_layers: int, length: int) -> list[int]:
        return layer_budgets(budget, n_layers, length, self.window, self.beta)

    def keep(self, view: LayerView, m: int, layer: int, n_layers: int) -> torch.Tensor:
        return _keep_top(snapkv_scores(view, self.kernel), m, view.positions)


def redundancy(keys: torch.Tensor) -> torch.Tensor:
    """R-KV's redundancy (KV, n): mean cosine similarity to the other keys, softmaxed over the cache.

    Among keys more similar than 0.5 to a key, the most recent one is not counted, so the latest copy of
    a repeated token survives (R-KV's retain-last rule).
    """
    unit = keys / (keys.norm(dim=-1, keepdim=True) + 1e-8)
    similarity = unit @ unit.transpose(1, 2)  # (KV, n, n)
    similarity.diagonal(dim1=1, dim2=2).zero_()
    n = keys.shape[1]
    positions = torch.arange(n, device=keys.device)
    similar_idx = torch.where(similarity > 0.5, positions, torch.zeros_like(positions[:1]))
    similarity.scatter_(2, similar_idx.amax(dim=-1, keepdim=True), 0.0)
    return similarity.mean(dim=1).softmax(dim=-1)


@dataclass
class RKV:
    """Important and not redundant: lam * attention importance - (1 - lam) * key redundancy."""

    window: int = 8  # observation window, always kept
    kernel: int = 7  # max-pool width over the importance
    lam: float = 0.1  # weight of importance against redundancy (the paper's lambda)
    name: str = "R-KV"
    rerotate: bool = False

    def keep(self, view: LayerView, m: int, layer: int, n_layers: int) -> torch.Tensor:
        n_kv, n = view.positions.shape
        in_window = view.positions >= view.window_positions.min()  # the same last w tokens in every head
        history = n - int(in_window[0].sum())  # the tokens that may be dropped come first
        if history == 0:  # the budget is all window: the most recent tokens win
            return _keep_top(view.positions.float(), m, view.positions)
        past = LayerView(
            view.positions[:, :history],
            view.keys[:, :history],
            view.attention_sum[:, :history],
            view.window_queries,
            view.window_positions,
        )
        attention = per_kv_head(window_attention(past).mean(dim=1), n_kv)  # (KV, history)
        k = self.kernel
        importance = F.max_pool1d(attention[:, None], k, stride=1, padding=k // 2)[:, 0]
        scores = torch.full((n_kv, n), float("inf"), device=view.keys.device)
        scores[:, :history] = self.lam * importance - (1 - self.lam) * redundancy(past.keys)
        return _keep_top(scores, m, view.positions)
