"""Lost in the middle on SmolLM2: is a fact found wherever it sits in a long context?

Liu et al. 2023 (https://arxiv.org/abs/2307.03172) put the document holding an answer at each position among 20
and found a U: facts at the start and at the end of the context are used, those in the middle less. Here the
fact is the KV-cache lesson's needle (models/kv_cache/needle.py, read with the full cache):

    <Wikipedia text ... The secret number is 7391. ... text> What is the secret number? The secret number is 7391

at a handful of depths (% of the text before the needle) and a few trials each (another number, another stretch
of text). Found = greedy decoding of the number is right at every digit (teacher-forced argmax, the same thing in
one pass); the answer's probability is the graded score. The search is the KV lesson's NeedleSearch with no
eviction policy: one decode per needle, a step at a time, for the live-training kit.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from models.kv_cache.needle import MAX_LENGTH, NeedleConfig, NeedleSearch

LENGTHS = (256, 512, 1024, 2048)


@dataclass
class MiddleConfig:
    """The lost-in-the-middle grid; the page builds it from its widgets."""

    length: int = 512  # tokens of context: text, needle, question and answer
    depths: tuple = (0, 25, 50, 75, 100)  # where the needle starts, % of the text before it
    trials: int = 2  # needles per depth: a different number and stretch of text each

    def __post_init__(self):
        self.depths = tuple(sorted(int(d) for d in self.depths))
        if not 64 <= self.length <= MAX_LENGTH:
            raise ValueError(f"Contexts here run from 64 to {MAX_LENGTH:,} tokens (got {self.length:,}).")
        if not self.depths:
            raise ValueError("Pick at least one depth.")
        if self.depths[0] < 0 or self.depths[-1] > 100:
            raise ValueError("Depths are percentages of the text before the needle, 0 to 100.")
        if not 1 <= self.trials <= 5:
            raise ValueError(f"Use 1 to 5 needles per depth (got {self.trials}).")

    @property
    def runs(self) -> int:
        return len(self.depths) * self.trials


def middle_search(model, tokenizer, filler: list[int], config: MiddleConfig) -> NeedleSearch:
    """The KV lesson's needle search at one length, full cache only (no eviction policy)."""
    needle = NeedleConfig(
        needle_lengths=(config.length,), needle_depths=config.depths, needle_trials=config.trials, policies=()
    )
    return NeedleSearch(model, tokenizer, filler, needle)


def by_depth(rows: list[dict]) -> dict[int, dict[str, float]]:
    """Per depth: share found, mean probability of the whole answer, and how many needles were read."""
    depths = sorted({row["depth"] for row in rows})
    table = {}
    for depth in depths:
        here = [row for row in rows if row["depth"] == depth]
        table[depth] = {
            "found": float(np.mean([row["found"] for row in here])),
            "answer probability": float(np.mean([np.exp(row["answer logprob"]) for row in here])),
            "needles": len(here),
        }
    return table
