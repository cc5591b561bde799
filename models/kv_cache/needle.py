"""Needle in a haystack: can the model still find a fact once its KV cache is held to a budget?

A sentence stating a number (the needle) is planted at a chosen depth of a stretch of the Wikipedia sample (the
haystack), and the text ends with a question and its answer:

    <haystack ... The secret number is 7391. ... haystack> What is the secret number? The secret number is 7391

The text is read teacher-forced through models/kv_cache/cache.py's BudgetDecoder, in one of two ways:

- compression at prefill (SnapKV, PyramidKV, as in SnapKV's paper): the prompt (haystack, needle and question) is
  read at once, the question sits in the observation window (the prompt's last `window` tokens), the cache is cut
  to the budget once, and the answer is decoded from that cache. The first digit comes from the prefill pass itself
  (full attention, as in the paper: the cut happens after the prefill's own attention); the later digits read the
  compressed cache. The full cache reads the prompt at once too.
- eviction during decoding (the window, StreamingLLM, H2O, R-KV, "SnapKV (streaming)"): the text streams in
  `chunk`-token steps and the cache is pruned at every overflow, as on the other tabs; by the question, a number
  nobody had asked about yet has to have survived every cut.

Scoring: the needle counts as found when, at each token of the answer, the
model's most likely next token (argmax) is the right one. Teacher-forced argmax over the answer equals greedy
decoding of those tokens (greedy feeds back its own argmax, which is the right token until the first miss), so
this is "greedy-decode the number after the question", without a second pass; tests/models/test_kv_needle.py checks it
against transformers' generate(). The answer's log-probability is kept too (a graded score for the hover).

The grid (lengths × depths × trials × policies) runs one decode at a time, a step (chunk of tokens) per
`train_steps` call, for the live-training kit. Needle-in-a-haystack test: Kamradt 2023
(https://github.com/gkamradt/LLMTest_NeedleInAHaystack); as a KV-cache benchmark: SnapKV (arXiv 2404.14469) §5.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

import torch

from models.kv_cache.cache import AT_PREFILL, POLICY_NAMES, BudgetDecoder, make_policy

NEEDLE = " The secret number is {number}."
QUESTION = " What is the secret number? The secret number is "  # ends with the space token before a number
ANSWER = "{number}"  # digits only: the model must produce the number, not the space before it
MAX_LENGTH = 2048  # SmolLM2's context


@dataclass
class NeedleConfig:
    """The needle grid; budget, chunk, sinks, window and policies are the lesson's shared settings."""

    # context lengths in tokens (haystack + needle + question + answer)
    needle_lengths: tuple = (128, 256)
    # where the needle starts, in % of the haystack (0 = first token)
    needle_depths: tuple = (10, 90)
    needle_trials: int = 1  # needles per cell: a different number and stretch of text each
    budget: int = 48  # tokens each query may attend to, per layer and KV head
    chunk: int = 8  # new tokens per step; before each step the cache is pruned to budget - chunk
    sinks: int = 4  # StreamingLLM's attention-sink tokens
    window: int = 8  # observation window of SnapKV, PyramidKV and R-KV
    policies: tuple = field(default=("Window", "StreamingLLM", "H2O", "SnapKV"))  # + the full cache

    def __post_init__(self):
        if not self.needle_lengths or not self.needle_depths:
            raise ValueError("Pick at least one context length and one depth.")
        if min(self.needle_lengths) < 64 or max(self.needle_lengths) > MAX_LENGTH:
            raise ValueError(f"Context lengths run from 64 to {MAX_LENGTH:,} tokens.")
        if min(self.needle_depths) < 0 or max(self.needle_depths) > 100:
            raise ValueError("Depths are percentages of the haystack, 0 to 100.")
        if not 1 <= self.needle_trials <= 10:
            raise ValueError("Use 1 to 10 needles per cell.")
        unknown = [p for p in self.policies if p not in POLICY_NAMES]
        if unknown:
            raise ValueError(f"Unknown policies {unknown}; choose from {POLICY_NAMES}.")

    @property
    def runs(self) -> int:
        return len(self.needle_lengths) * len(self.needle_depths) * self.needle_trials * (len(self.policies) + 1)


@dataclass(frozen=True)
class Haystack:
    ids: list[int]  # the whole text: haystack with the needle, the question, the answer
    needle: range  # token positions of the number inside the needle sentence
    answer: range  # token positions of the number after the question (the last tokens)
    number: int
    length: int
    depth: int  # % of the haystack before the needle


def filler_ids(tokenizer, text: str, tokens: int = MAX_LENGTH + 1024) -> list[int]:
    """Token ids of the haystack source (enough for the longest context at any offset)."""
    return tokenizer(text[: tokens * 8], add_special_tokens=False)["input_ids"][:tokens]


def build_haystack(tokenizer, filler: list[int], length: int, depth: int, trial: int = 0) -> Haystack:
    """`length` tokens: the needle (a 4-digit number drawn from `trial`) at `depth` % of the filler."""
    number = random.Random(trial).randrange(1000, 10_000)
    encode = lambda text: tokenizer(text, add_special_tokens=False)["input_ids"]  # noqa: E731
    needle, question, answer = (
        encode(NEEDLE.format(number=number)),
        encode(QUESTION),
        encode(ANSWER.format(number=number)),
    )
    digits = encode(f" {number}")  # the number as the needle sentence spells it
    n_hay = length - len(needle) - len(question) - len(answer)
    offset = (trial * 337) % max(1, len(filler) - n_hay)  # another stretch of text per trial
    if n_hay < 8 or offset + n_hay > len(filler):
        raise ValueError(f"A context of {length} tokens does not fit the needle and the text.")
    hay = filler[offset : offset + n_hay]
    at = _sentence_start(tokenizer, hay, round(depth / 100 * n_hay))
    ids = hay[:at] + needle + hay[at:] + question + answer
    start = at + _find(needle, digits)
    return Haystack(
        ids=ids,
        needle=range(start, start + len(digits)),
        answer=range(len(ids) - len(answer), len(ids)),
        number=number,
        length=length,
        depth=depth,
    )


def _sentence_start(tokenizer, hay: list[int], target: int) -> int:
    """The start of the sentence nearest to `target` (after a token ending in "."), else `target` itself."""
    tokens = tokenizer.convert_ids_to_tokens(hay)
    starts = [i for i in range(1, len(hay)) if tokens[i - 1].endswith(".")] + [0, len(hay)]
    return min(starts, key=lambda i: (abs(i - target), i))


def _find(sequence: list[int], part: list[int]) -> int:
    for i in range(len(sequence) - len(part) + 1):
        if sequence[i : i + len(part)] == part:
            return i
    raise ValueError("The needle's number is tokenised differently inside its sentence.")


def needle_in_cache(decoder: BudgetDecoder, needle: range) -> float:
    """Share of the (layer, KV head) caches that hold every token of the needle's number right now."""
    wanted = torch.tensor(list(needle), device=decoder.device)
    held = [torch.isin(layer.positions, wanted).sum(-1) == len(needle) for layer in decoder.cache]
    return float(torch.cat(held).float().mean())


def make_decoder(model, tokenizer, haystack: Haystack, policy_name: str, config) -> BudgetDecoder:
    """A budgeted decode of the haystack; logits only for the answer (the rest of the text is context).

    The full cache and the prefill compressors read the prompt (everything before the answer) in one step; the
    others stream it in `chunk`-token steps from a prefill of `budget` tokens."""
    prompt = haystack.answer.start
    return BudgetDecoder(
        model,
        tokenizer,
        haystack.ids,
        make_policy(policy_name, config),
        config.budget,
        chunk=config.chunk,
        prefill=prompt if policy_name in ("Full cache", *AT_PREFILL) else None,
        score_from=prompt - 1,  # the question's last token predicts the first digit
        prompt=prompt,
    )


def score(decoder: BudgetDecoder, haystack: Haystack, policy: str, trial: int, held: float) -> dict:
    """Found (greedy = the answer at every token), the answer's log-probability, what the model said."""
    at = [p - 1 for p in haystack.answer]  # prediction of token p is made at p - 1
    predicted = decoder.predicted[at]
    target = torch.tensor(haystack.ids)[list(haystack.answer)]
    return {
        "policy": policy,
        "length": haystack.length,
        "depth": haystack.depth,
        "trial": trial,
        "number": haystack.number,
        "found": bool((predicted == target).all()),
        "answer logprob": float(-decoder.losses[at].sum()),
        "said": predicted.tolist(),
        "needle in cache": held,
    }


class NeedleSearch:
    """The grid, one decode after another; train_steps(n) runs n steps (chunks) of the current decode."""

    def __init__(self, model, tokenizer, filler: list[int], config: NeedleConfig):
        self.model, self.tokenizer, self.filler, self.config = model, tokenizer, filler, config
        self.jobs = [
            (policy, length, depth, trial)
            for length in sorted(config.needle_lengths)
            for depth in sorted(config.needle_depths)
            for trial in range(config.needle_trials)
            for policy in ["Full cache", *config.policies]
        ]
        self.rows: list[dict] = []
        self.job_index = 0
        self.decoder: BudgetDecoder | None = None
        self.haystack: Haystack | None = None
        self.held: float | None = None
        self.total_steps = 0
        for length in set(config.needle_lengths):  # fail now, with the message, not mid-grid
            for policy in ["Full cache", *config.policies]:
                decoder = make_decoder(model, tokenizer, self._haystack(length, 50, 0), policy, config)
                count = sum(1 for job in self.jobs if job[0] == policy and job[1] == length)
                self.total_steps += count * (1 + -(-(decoder.length - decoder.prefill) // config.chunk))

    def _haystack(self, length: int, depth: int, trial: int) -> Haystack:
        return build_haystack(self.tokenizer, self.filler, length, depth, trial)

    @property
    def done(self) -> bool:
        return self.job_index >= len(self.jobs)

    @property
    def jobs_policies(self) -> list[str]:
        return ["Full cache", *self.config.policies]

    def current(self) -> str:
        if self.done:
            return ""
        policy, length, depth, trial = self.jobs[self.job_index]
        return f"{policy}, {length} tokens, needle at {depth} %, trial {trial + 1}"

    def train_steps(self, n: int) -> dict:
        for _ in range(n):
            if self.done:
                break
            policy, length, depth, trial = self.jobs[self.job_index]
            if self.decoder is None:
                self.haystack = self._haystack(length, depth, trial)
                self.decoder = make_decoder(self.model, self.tokenizer, self.haystack, policy, self.config)
                self.held = None
            self.decoder.train_steps(1)
            if self.held is None and self.decoder.done_tokens >= self.haystack.answer.start:
                self.held = needle_in_cache(self.decoder, self.haystack.needle)  # what the question saw
            if self.decoder.done:
                self.rows.append(score(self.decoder, self.haystack, policy, trial, self.held))
                self.decoder, self.job_index = None, self.job_index + 1
        found = [row["found"] for row in self.rows]
        return {"runs done": float(len(self.rows)), "found": float(sum(found))}
