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
the same code decodes a causal LM (`beam_search`) and the tiny encoder-decoder.
"""

from __future__ import annotations

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


def beam_search(
    model, tokenizer, prompt: str, num_beams: int = 4, max_new_tokens: int = 20, length_penalty: float = 1.0
) -> list[tuple[str, float]]:
    """[(generated text, score)], best first: the sequences of generate(num_beams=k, do_sample=False)."""
    device = next(model.parameters()).device
    prompt_ids = tokenizer(prompt, return_tensors="pt").input_ids.to(device)  # (1, P)
    result = beam_search_ids(
        causal_lm_step(model, prompt_ids), num_beams, max_new_tokens, tokenizer.eos_token_id, length_penalty
    )
    return [
        (tokenizer.decode(ids, skip_special_tokens=True), score) for ids, score in zip(result.sequences, result.scores)
    ]
