"""The translation lesson's shared settings: which parallel corpus, and how many EM iterations of IBM Model 1."""

from __future__ import annotations

from dataclasses import dataclass

from models.translation.corpora import CORPORA
from models.translation.ibm_model1 import MAX_ITERATIONS


@dataclass
class TranslationConfig:
    corpus: str = "toy"  # one of CORPORA: toy, german, das_haus, user
    iterations: int = 8  # EM iterations of IBM Model 1 from the uniform start
    toy_pairs: int = 300  # sentence pairs generated for the toy corpus
    seed: int = 0  # the toy corpus's generator seed

    def __post_init__(self):
        if self.corpus not in CORPORA:
            raise ValueError(f"No corpus {self.corpus!r}: pick one of {', '.join(CORPORA)}.")
        if not 1 <= self.iterations <= MAX_ITERATIONS:
            raise ValueError(f"Between 1 and {MAX_ITERATIONS} EM iterations, please (got {self.iterations}).")
        if not 20 <= self.toy_pairs <= 2000:
            raise ValueError(f"The toy corpus has between 20 and 2,000 pairs (got {self.toy_pairs}).")
        if not 0 <= self.seed <= 1_000_000:
            raise ValueError(f"The seed must be between 0 and 1,000,000 (got {self.seed}).")
