"""Word2vec: skip-gram and CBOW with negative sampling, the textbook update.

What: one vector per word, learned so that words used in similar contexts get similar vectors.
Skip-gram: the centre word predicts each word of its context, one (centre, context) pair at a time
(word2vec.c computes each pair the other way round, the context word's input vector scored against
the centre word: the same pairs, the same loss). CBOW: the mean of the context words' vectors
predicts the centre word (gensim's cbow_mean=1). Instead of a softmax over the vocabulary, negative
sampling trains a logistic classifier: the true word (label 1) against `negatives` noise words
(label 0) drawn from count**0.75. Frequent words are randomly dropped (subsampling), each position
draws its window size in 1..window, and the learning rate decays linearly with the words processed:
all as word2vec.c and gensim do.

This file reads top to bottom: the settings, the vocabulary and its two tables (noise distribution,
subsampling), then the update of one example in a dozen plain lines (`negative_sampling_update`,
`skipgram_update`, `cbow_update`). models/word_embeddings/engine.py applies the same update to batches of
examples at once, so that it runs fast on a GPU (tests/models/test_word2vec.py: both give equal results).

Papers: Mikolov et al. 2013, https://arxiv.org/abs/1301.3781 and https://arxiv.org/abs/1310.4546;
Goldberg & Levy 2014, "word2vec Explained", https://arxiv.org/abs/1402.3722.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass

import numpy as np
import torch

MAX_EXP = 6.0  # word2vec.c treats sigmoid(f) as 1 above this dot product and 0 below -MAX_EXP


@dataclass
class Word2VecConfig:
    arch: str = "skipgram"  # "skipgram" (the centre predicts each context word) or "cbow" (the mean)
    dim: int = 100  # vector size d
    window: int = 5  # max distance of a context word; each position draws its window in 1..window
    negatives: int = 5  # noise words per positive example
    ns_exponent: float = 0.75  # noise distribution is count**ns_exponent (1 = unigram, 0 = uniform)
    subsample: float = 1e-3  # downsampling threshold t, a fraction of the corpus (0 = off)
    min_count: int = 5  # words seen fewer times are dropped from the vocabulary
    epochs: int = 5  # passes over the corpus
    lr: float = 0.025  # starting learning rate (alpha), decays linearly with the words processed
    min_lr: float = 1e-4  # learning rate at the end of training
    batch_size: int | None = None  # pairs (CBOW: windows) per step; None: see default_batch_size
    shuffle: bool = True  # visit centre words in random order (False: corpus order, as word2vec.c)
    workers: int = 1  # CPU threads stepping at once, Hogwild as in word2vec.c (> 1: not reproducible)
    seed: int = 0  # seeds the initial vectors, subsampling, windows, order and noise words

    def __post_init__(self):
        problems = {
            f"arch must be skipgram or cbow, got {self.arch!r}": self.arch in ("skipgram", "cbow"),
            f"dim (vector size) must be at least 1, got {self.dim}": self.dim >= 1,
            f"window must be at least 1 (one word each side), got {self.window}": self.window >= 1,
            f"negatives must be at least 1 noise word, got {self.negatives}": self.negatives >= 1,
            f"subsample must be in [0, 1) (0 = off), got {self.subsample}": 0 <= self.subsample < 1,
            f"min_count must be at least 1, got {self.min_count}": self.min_count >= 1,
            f"epochs must be at least 1, got {self.epochs}": self.epochs >= 1,
            f"need 0 < min_lr <= lr, got {self.min_lr} and {self.lr}": 0 < self.min_lr <= self.lr,
            f"batch_size must be at least 1, got {self.batch_size}": (self.batch_size or 1) >= 1,
            f"workers must be at least 1, got {self.workers}": self.workers >= 1,
        }
        for message, ok in problems.items():
            if not ok:
                raise ValueError(message)


@dataclass
class Vocab:
    words: list[str]  # (V,) most frequent first; ties in order of first appearance
    counts: np.ndarray  # (V,) int64 corpus counts
    word_to_index: dict[str, int]
    total_words: int  # tokens in the corpus, rare words included


def build_vocab(sentences: list[list[str]], min_count: int) -> Vocab:
    if isinstance(sentences, str) or any(isinstance(s, str) for s in sentences[:100]):
        raise ValueError("Expected tokenised sentences (a list of lists of words), not raw strings.")
    counts = Counter(word for sentence in sentences for word in sentence)  # in order of appearance
    total = sum(counts.values())
    kept = sorted((w for w, c in counts.items() if c >= min_count), key=lambda w: -counts[w])
    if not kept:
        raise ValueError(
            f"The vocabulary is empty: none of the {len(counts):,} distinct words in this corpus "
            f"({total:,} words) occurs min_count={min_count} times. Lower min_count or add text."
        )
    kept_counts = np.array([counts[w] for w in kept], dtype=np.int64)
    return Vocab(kept, kept_counts, {w: i for i, w in enumerate(kept)}, total)


def noise_distribution(counts: np.ndarray, exponent: float = 0.75) -> np.ndarray:
    """P(noise word = i) = count_i**exponent / sum_j count_j**exponent, shape (V,)."""
    weights = np.asarray(counts, dtype=np.float64) ** float(exponent)
    return weights / weights.sum()


def keep_probabilities(counts: np.ndarray, subsample: float) -> np.ndarray:
    """Chance of keeping each occurrence, (sqrt(c/(t*N)) + 1) * (t*N)/c capped at 1, shape (V,).

    c is the word's count and N the corpus size (gensim's formula; the paper had 1 - sqrt(t/f)).
    """
    counts = np.asarray(counts, dtype=np.float64)
    if subsample <= 0:
        return np.ones_like(counts)
    threshold = subsample * counts.sum()  # t * N, N = tokens of in-vocabulary words
    return np.minimum(1.0, (np.sqrt(counts / threshold) + 1) * threshold / counts)


# ---- the update of one example (word2vec.c's inner loop) ----------------------------------------


def clipped_sigmoid(score: float) -> float:
    """word2vec.c's sigmoid: 1 above MAX_EXP, 0 below -MAX_EXP (it reads the rest from a table)."""
    return 1.0 if score > MAX_EXP else 0.0 if score < -MAX_EXP else 1.0 / (1.0 + math.exp(-score))


def negative_sampling_update(hidden, w_out, word: int, negatives, lr: float) -> torch.Tensor:
    """Score `hidden` (d,) against the true word (label 1) and K noise words (label 0).

    Each output vector moves by lr * (label - sigmoid(score)) * hidden, in place. Returns the error
    the input side adds to its vector(s) (word2vec.c's neu1e). A noise word equal to the true word
    is skipped.
    """
    error = torch.zeros_like(hidden)  # (d,)
    for k, target in enumerate([word, *negatives]):
        if k > 0 and target == word:
            continue
        label = 1.0 if k == 0 else 0.0
        g = (label - clipped_sigmoid(float(hidden @ w_out[target]))) * lr
        error += g * w_out[target]
        w_out[target] += g * hidden
    return error


def skipgram_update(w_in, w_out, context: int, word: int, negatives, lr: float) -> None:
    """One (centre, context) pair: the context word's input vector is scored against the centre."""
    error = negative_sampling_update(w_in[context].clone(), w_out, word, negatives, lr)
    w_in[context] += error


def cbow_update(w_in, w_out, contexts, word: int, negatives, lr: float) -> None:
    """One window: the mean of the context words' input vectors is scored against the centre word;
    every context word receives the whole error (word2vec.c, and gensim with cbow_mean=1)."""
    hidden = w_in[list(contexts)].mean(dim=0)  # (d,)
    error = negative_sampling_update(hidden, w_out, word, negatives, lr)
    for context in contexts:
        w_in[context] += error
