"""Beam search, step by step as transformers' `generate(num_beams=k, do_sample=False)` does it.

Keep the k best prefixes by their summed log-probability. At each step (transformers' `_beam_search`):
- score every continuation of every running beam: sum log p, and take the 2k best (2k so that k remain running
  when some end);
- a continuation that ends (EOS, or the length limit) and ranks among the first k is a finished hypothesis, scored
  sum log p / (generated length) ** length_penalty; the k best finished are kept;
- the k best that did not end run on;
- stop when the best running beam, normalised by its length, cannot beat the worst of k finished hypotheses
  (early_stopping=False's heuristic), or at the length limit.
Greedy decoding is num_beams = 1. Returns the finished hypotheses best first, and the tree of the beams kept at
each step, for the page to draw.

`beam_search_ids(step, ...)` needs only a step function, prefixes -> (n, V) log-probabilities of the next token, so
the same code decodes a causal LM (`beam_search`) and the tiny encoder-decoder. Two step functions for a causal LM:
- `causal_lm_step`: the prompt and the whole prefix, every step (clear, and the reference for the next one);
- `CachedLMStep`: the prompt once, then only each beam's newest token against a KV cache. A step function that has
  a `keep_beams(parents)` method is told, after each step, which beam each kept prefix grew from, and reorders its
  cache rows to match (row r <- row parents[r]: transformers' `Cache.reorder_cache(beam_idx)`), as generate does.
  Prompts that share their first tokens (the same few-shot examples; one prompt at every beam width) can start
  from one `PromptCache` of those tokens, copied, instead of running them again.
"""

from __future__ import annotations

import copy
import inspect
from collections.abc import Callable
from dataclasses import dataclass, field

import torch

MAX_BEAMS = 8
MAX_NEW_TOKENS = 64
NEG = -1.0e9  # transformers' "impossible" score


@dataclass
class BeamResult:
    sequences: list[list[int]]  # generated ids (EOS included when it ended there), best first
    scores: list[float]  # sum log p / length ** length_penalty, as transformers' sequences_scores
    log_probs: list[float]  # sum log p of each sequence
    tree: list[list[tuple[int, int, float]]] = field(default_factory=list)  # per step: (parent, token, sum log p)


def beam_search_ids(
    step: Callable[[list[list[int]]], torch.Tensor],
    num_beams: int,
    max_new_tokens: int,
    eos_token_id: int | None,
    length_penalty: float = 1.0,
) -> BeamResult:
    """Beam search over generated ids; `step(prefixes)` gives (len(prefixes), V) log-probabilities."""
    if not 1 <= num_beams <= MAX_BEAMS:
        raise ValueError(f"Between 1 and {MAX_BEAMS} beams, please (asked {num_beams}).")
    if not 1 <= max_new_tokens <= MAX_NEW_TOKENS:
        raise ValueError(f"Between 1 and {MAX_NEW_TOKENS} new tokens, please (asked {max_new_tokens}).")
    running = [[] for _ in range(num_beams)]  # prefixes
    running_scores = torch.full((num_beams,), NEG)
    running_scores[0] = 0.0  # the copies of the prompt must not all be picked at the first step
    finished: list[tuple[float, list[int], float]] = []  # (normalised score, ids, sum log p)
    improvable, tree = True, []
    keep = 2 * num_beams if eos_token_id is not None else num_beams
    for t in range(max_new_tokens):
        log_probs = step(running) + running_scores[:, None]  # (k, V): summed log p of every continuation
        vocab = log_probs.shape[-1]
        top_scores, top_index = torch.topk(log_probs.flatten(), k=keep)  # (2k,)
        parents, tokens = (top_index // vocab).tolist(), (top_index % vocab).tolist()
        ends = [token == eos_token_id or t == max_new_tokens - 1 for token in tokens]
        # the k best continuations that go on
        going = top_scores + torch.tensor(ends, dtype=torch.float32) * NEG
        order = torch.topk(going, k=num_beams).indices.tolist()
        # finished: only among the first k, and only while an improvement is possible
        if improvable:
            for rank in range(num_beams):
                if ends[rank]:
                    ids = running[parents[rank]] + [tokens[rank]]
                    score = (top_scores[rank] / (t + 1) ** length_penalty).item()  # float32, as transformers
                    finished.append((score, ids, top_scores[rank].item()))
            finished = sorted(finished, key=lambda item: -item[0])[:num_beams]
        running = [running[parents[r]] + [tokens[r]] for r in order]
        running_scores = going[order]
        if hasattr(step, "keep_beams"):  # a cached step: its cache rows follow the kept beams' parents
            step.keep_beams([parents[r] for r in order])
        tree.append([(parents[r], tokens[r], going[r].item()) for r in order])
        if len(finished) == num_beams:  # can the best running beam still beat the worst finished one?
            best_possible = (running_scores[0] / (t + 1) ** length_penalty).item()
            improvable = improvable and best_possible > finished[-1][0]
        if not improvable or all(ends):
            break
    return BeamResult(
        sequences=[ids for _, ids, _ in finished],
        scores=[score for score, _, _ in finished],
        log_probs=[log_p for _, _, log_p in finished],
        tree=tree,
    )


def causal_lm_step(model, prompt_ids: torch.Tensor) -> Callable[[list[list[int]]], torch.Tensor]:
    """A step function for a transformers causal LM: the prompt, then each prefix; no cache (clear, not fast)."""

    @torch.no_grad()
    def step(prefixes: list[list[int]]) -> torch.Tensor:
        generated = torch.tensor(prefixes, dtype=torch.long, device=prompt_ids.device)  # (n, t)
        ids = torch.cat([prompt_ids.expand(len(prefixes), -1), generated], dim=1)  # (n, P + t)
        logits = model(input_ids=ids).logits[:, -1].float()  # (n, V)
        return torch.log_softmax(logits, dim=-1).cpu()

    return step


@dataclass
class PromptCache:
    """The KV cache of a prompt's first tokens (batch 1), for searches whose prompts all start with them (the same
    few-shot examples, or the same prompt at every beam width). Read-only: each search works on a copy."""

    ids: list[int]  # the shared first tokens
    cache: object  # transformers' Cache after them
    logits: torch.Tensor  # (1, V): the logits at their last position


def prompt_cache(model, ids: torch.Tensor) -> PromptCache:
    """Run the shared first tokens `ids` (1, P0) once."""
    step = CachedLMStep(model, ids)
    logits = step.forward(ids)
    return PromptCache(ids[0].tolist(), step.cache, logits)


class CachedLMStep:
    """`causal_lm_step` with a KV cache: the same log-probabilities, one new token per beam per step.

    First call: the prompt runs once (batch 1), its cache is copied to each beam's row; given a `start` (a
    PromptCache of the prompt's first tokens), only the rest of the prompt runs. Then, before each call,
    `keep_beams(parents)` reorders the cache rows (row r <- row parents[r]) and the call feeds each beam's newest
    token only: (n, 1) instead of (n, P + t).
    """

    def __init__(self, model, prompt_ids: torch.Tensor, start: PromptCache | None = None):
        self.model, self.prompt_ids = model, prompt_ids  # prompt_ids: (1, P)
        self.start = start if start is not None and prompt_ids[0, : len(start.ids)].tolist() == start.ids else None
        self.cache = None  # transformers' Cache: (n, heads, P + t - 1, head dim) per layer
        self.parents: list[int] | None = None
        # transformers >= 5.2x names the cache argument `cache`; 5.17 and older `past_key_values`
        self.cache_arg = "cache" if "cache" in inspect.signature(model.forward).parameters else "past_key_values"

    @torch.no_grad()
    def forward(self, input_ids: torch.Tensor) -> torch.Tensor:
        """The last position's logits (n, V); the cache grows by input_ids' length."""
        cache = {} if self.cache is None else {self.cache_arg: self.cache}
        out = self.model(input_ids=input_ids, use_cache=True, **cache)
        self.cache = out.cache if getattr(out, "cache", None) is not None else out.past_key_values
        return out.logits[:, -1].float()

    def keep_beams(self, parents: list[int]) -> None:
        self.parents = parents

    @torch.no_grad()
    def __call__(self, prefixes: list[list[int]]) -> torch.Tensor:
        device = self.prompt_ids.device
        if self.cache is None:  # the prompt, once; every beam starts from its cache and its last logits
            rest = self.prompt_ids
            if self.start is not None:  # its first tokens' cache is ready: copy it, run the rest
                self.cache, rest = copy.deepcopy(self.start.cache), self.prompt_ids[:, len(self.start.ids) :]
            logits = self.forward(rest) if rest.shape[1] else self.start.logits
            logits = logits.expand(len(prefixes), -1)  # (n, V)
            self.cache.reorder_cache(torch.zeros(len(prefixes), dtype=torch.long, device=device))  # 1 -> n rows
        else:
            if self.parents is None or len(self.parents) != len(prefixes):
                raise RuntimeError("CachedLMStep needs keep_beams(parents) before each step after the first.")
            self.cache.reorder_cache(torch.tensor(self.parents, dtype=torch.long, device=device))
            self.parents = None
            newest = torch.tensor([[prefix[-1]] for prefix in prefixes], dtype=torch.long, device=device)  # (n, 1)
            logits = self.forward(newest)  # (n, V)
        return torch.log_softmax(logits, dim=-1).cpu()


def prompt_ids(model, tokenizer, prompt: str) -> torch.Tensor:
    return tokenizer(prompt, return_tensors="pt").input_ids.to(next(model.parameters()).device)  # (1, P)


def beam_search_result(
    model,
    tokenizer,
    prompt: str,
    num_beams: int = 4,
    max_new_tokens: int = 20,
    length_penalty: float = 1.0,
    start: PromptCache | None = None,
) -> BeamResult:
    """The BeamResult (ids, scores, tree) of `prompt`'s continuation, decoded with a KV cache (from `start`'s when
    the prompt begins with its tokens)."""
    step = CachedLMStep(model, prompt_ids(model, tokenizer, prompt), start)
    return beam_search_ids(step, num_beams, max_new_tokens, tokenizer.eos_token_id, length_penalty)


def beam_search(
    model, tokenizer, prompt: str, num_beams: int = 4, max_new_tokens: int = 20, length_penalty: float = 1.0
) -> list[tuple[str, float]]:
    """[(generated text, score)], best first: the sequences of generate(num_beams=k, do_sample=False)."""
    result = beam_search_result(model, tokenizer, prompt, num_beams, max_new_tokens, length_penalty)
    return [
        (tokenizer.decode(ids, skip_special_tokens=True), score) for ids, score in zip(result.sequences, result.scores)
    ]
