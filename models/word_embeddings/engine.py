"""The fast engine behind models/word_embeddings/word2vec.py: the same update, applied to batches of examples.

Why batched: the update of `negative_sampling_update` (g = (label - sigmoid(f)) * lr, the error
accumulated into the input vector, output vectors updated in place), applied to a batch of examples
at once with gathers and index_add_, runs fast on a GPU. With one example per batch it is exactly the
textbook update, example after example (tests/models/test_word2vec.py checks both). Two departures make big
batches behave: centre words are visited in a random order (word2vec.c walks the corpus with several
threads), and a row hit by many examples of one batch takes a step no larger than the curvature of
their summed loss allows (`_step_limit`; it never binds for rows hit once or twice). Around the
update: the epoch's examples built with tensor ops, an alias table for the noise words, progress in
corpus words, and optional Hogwild threads as in word2vec.c.
"""

from __future__ import annotations

import math
import threading
import time
from contextlib import contextmanager

import numpy as np
import torch
import torch.nn.functional as F

from models.word_embeddings.evaluation import KeyedVectors
from models.word_embeddings.word2vec import (
    MAX_EXP,
    Word2VecConfig,
    build_vocab,
    keep_probabilities,
    noise_distribution,
)


def alias_table(probabilities: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Walker's alias method: draw i uniformly, keep it with chance accept[i], else take alias[i].

    Two (V,) arrays make an exact O(1) sampler of a discrete distribution; a binary search in
    gensim's cumulative table costs O(log V) per draw and was the slowest op of a CPU step.
    """
    size = len(probabilities)
    scaled = (np.asarray(probabilities, dtype=np.float64) * size).tolist()
    accept, alias = [1.0] * size, list(range(size))
    small = [i for i, p in enumerate(scaled) if p < 1.0]
    large = [i for i, p in enumerate(scaled) if p >= 1.0]
    while small and large:
        s, big = small.pop(), large.pop()
        accept[s], alias[s] = scaled[s], big  # slot s: keep s with chance scaled[s], else big
        scaled[big] -= 1.0 - scaled[s]  # big gave away the rest of slot s
        (small if scaled[big] < 1.0 else large).append(big)
    return np.array(accept), np.array(alias, dtype=np.int64)


def gather(table: torch.Tensor, rows: torch.Tensor) -> torch.Tensor:
    """table[rows] by index_select: the same values, 2-3x faster than advanced indexing on a CPU."""
    return table.index_select(0, rows.reshape(-1)).view(*rows.shape, *table.shape[1:])


@contextmanager
def one_torch_thread(device: torch.device):
    """Run this thread's CPU ops on one intra-op thread, then restore torch's setting.

    A step is ~50 small ops (5-120 us each). With torch's default of one thread per core, every op
    forks and joins them all: on an idle 2-core machine a serial step gains ~20%, but once another
    program keeps a core busy each join waits for a descheduled thread (3-13 ms per step instead of
    0.9), and Hogwild workers fork their own (2 workers x 2 threads on 2 cores: 0.36x gensim's speed,
    0.59x at one thread each; BENCHMARKS.md, issue 31). So cores go to workers, one thread each.
    torch's setting is per thread; a thread that first uses torch while this runs starts with it too.
    """
    before = torch.get_num_threads()
    if device.type != "cpu" or before == 1:
        yield
        return
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def default_batch_size(arch: str, device_type: str) -> int:
    """About 1.5k centre words per step on a CPU (fits its caches), 6k on a GPU (keeps it busy)."""
    if device_type == "cpu":
        return 1024
    return 16384 if arch == "skipgram" else 4096  # a skip-gram centre makes ~3 pairs, CBOW one


class Word2VecTrainer:
    """Holds the corpus as index tensors, the two embedding matrices, and where training stands."""

    def __init__(self, sentences: list[list[str]], config: Word2VecConfig, device: str = "cpu"):
        self.config, self.device = config, torch.device(device)
        self.batch_size = config.batch_size or default_batch_size(config.arch, self.device.type)
        self.vocab = build_vocab(sentences, config.min_count)
        self.noise_probabilities = noise_distribution(self.vocab.counts, config.ns_exponent)  # (V,)
        self.keep_probabilities = keep_probabilities(self.vocab.counts, config.subsample)  # (V,)
        lookup = self.vocab.word_to_index
        encoded = [[lookup[w] for w in sentence if w in lookup] for sentence in sentences]
        if max(len(s) for s in encoded) < 2:
            raise ValueError(
                "No training pairs: no sentence has two in-vocabulary words, so no word has a "
                "neighbour inside its window. Use longer sentences or a lower min_count."
            )
        # the corpus, flattened: in-vocabulary tokens and the sentence each belongs to
        lengths = torch.tensor([len(s) for s in encoded])
        self._ids = torch.tensor([i for s in encoded for i in s], dtype=torch.int64).to(device)
        self._sentence_ids = torch.arange(len(encoded)).repeat_interleave(lengths).to(device)
        self._keep = torch.tensor(self.keep_probabilities, dtype=torch.float32, device=self.device)
        accept, alias = alias_table(self.noise_probabilities)
        self._alias_accept = torch.tensor(accept, dtype=torch.float32, device=self.device)  # (V,)
        self._alias = torch.tensor(alias, device=self.device)  # (V,)
        window = config.window
        self._offsets = torch.tensor([*range(-window, 0), *range(1, window + 1)], device=device)
        self._labels = torch.zeros(1 + config.negatives, device=device)  # (1+K,) [1, 0, ..., 0]
        self._labels[0] = 1.0
        self._signs = 2 * self._labels - 1  # (1+K,) [1, -1, ..., -1]
        self._generator = torch.Generator(device=self.device).manual_seed(config.seed)
        self._worker_generators = [  # noise words of each Hogwild worker
            torch.Generator(device=self.device).manual_seed(config.seed + 1 + i)
            for i in range(config.workers if config.workers > 1 else 0)
        ]
        # word2vec.c init: input vectors uniform(-0.5/d, 0.5/d), output vectors zero
        V, d = len(self.vocab.words), config.dim
        self.w_in = (torch.rand(V, d, generator=self._generator, device=self.device) - 0.5) / d
        self.w_out = torch.zeros(V, d, device=self.device)
        self.epoch, self.steps, self.pairs_processed = 0, 0, 0
        self._epoch = None  # this epoch's subsampled tokens: ids, sentence ids, windows, order
        self._reach = None  # how far each token's context reaches back and ahead in this epoch
        self._centres_done = 0  # centres of this epoch already turned into examples
        self._buffer, self._buffer_size, self._buffer_offset, self._buffer_centres = (), 0, 0, 0

    @property
    def done(self) -> bool:
        return self.epoch >= self.config.epochs

    @property
    def progress(self) -> float:
        """Fraction of training done, counted in corpus words as word2vec does."""
        if self._epoch is None:
            return min(1.0, self.epoch / self.config.epochs)
        unread = 1 - self._buffer_offset / max(self._buffer_size, 1)  # of the current block
        centres = self._centres_done - self._buffer_centres * unread
        return (self.epoch + centres / max(len(self._epoch[0]), 1)) / self.config.epochs

    @property
    def words_processed(self) -> int:
        return round(self.progress * self.config.epochs * self.vocab.total_words)

    @property
    def lr(self) -> float:
        cfg = self.config
        return max(cfg.min_lr, cfg.lr - (cfg.lr - cfg.min_lr) * self.progress)

    def keyed_vectors(self) -> KeyedVectors:
        """A snapshot of the input vectors (the word vectors word2vec outputs)."""
        vectors = self.w_in.cpu().numpy().copy()
        return KeyedVectors(vectors, list(self.vocab.words), self.vocab.counts)

    def train_steps(self, n: int, time_budget_s: float | None = None) -> dict:
        """Run up to n SGD steps (stopping early at the end of training or after time_budget_s)."""
        start, words_before = time.perf_counter(), self.words_processed
        deadline = start + time_budget_s if time_budget_s is not None else float("inf")
        if self._worker_generators:
            loss_sum, examples, steps = self._train_hogwild(n, deadline)
        else:
            loss_sum, examples, steps = self._train_serial(n, deadline)
        elapsed = max(time.perf_counter() - start, 1e-9)
        self.steps, self.pairs_processed = self.steps + steps, self.pairs_processed + examples
        return {
            "loss": float(loss_sum) / examples if examples else float("nan"),  # mean NS loss
            "lr": self.lr,
            "epoch": self.epoch,
            "progress": self.progress,
            "words_processed": self.words_processed,
            "pairs_processed": self.pairs_processed,  # for CBOW: windows (one per centre word)
            "steps": self.steps,
            "pairs_per_s": examples / elapsed,
            "words_per_s": (self.words_processed - words_before) / elapsed,
            "elapsed_s": elapsed,
            "done": self.done,
        }

    def _train_serial(self, n: int, deadline: float) -> tuple[torch.Tensor | float, int, int]:
        loss_sum, examples, steps = 0.0, 0, 0
        step = self._cbow_step if self.config.arch == "cbow" else self._skipgram_step
        with torch.no_grad(), one_torch_thread(self.device):
            while steps < n and not self.done and time.perf_counter() < deadline:
                lr, batch = self.lr, self._next_batch()
                if batch is not None:
                    loss_sum = loss_sum + step(*batch, lr=lr)
                    examples, steps = examples + len(batch[-1]), steps + 1
        return loss_sum, examples, steps

    def _train_hogwild(self, n: int, deadline: float) -> tuple[float, int, int]:
        """Like word2vec.c's threads: workers take batches in turn and update the shared vectors
        without locks (torch kernels release the GIL, so the steps really run in parallel)."""
        lock, totals = threading.Lock(), [0.0, 0, 0]  # loss, examples, steps
        step = self._cbow_step if self.config.arch == "cbow" else self._skipgram_step

        def work(generator: torch.Generator) -> None:
            loss_sum, examples = 0.0, 0  # this worker's, added to the totals at the end
            with torch.no_grad(), one_torch_thread(self.device):
                while True:
                    with lock:  # taking a batch moves the shared cursor
                        if totals[2] >= n or self.done or time.perf_counter() > deadline:
                            break
                        lr, batch = self.lr, self._next_batch()
                        totals[2] += batch is not None
                    if batch is not None:
                        shape = (len(batch[-1]), self.config.negatives)
                        negatives = self.sample_negatives(shape, generator)
                        loss_sum += float(step(*batch, lr=lr, negatives=negatives))
                        examples += len(batch[-1])
            with lock:
                totals[0], totals[1] = totals[0] + loss_sum, totals[1] + examples

        threads = [threading.Thread(target=work, args=(g,)) for g in self._worker_generators]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return totals[0], totals[1], totals[2]

    # ---- examples: subsample, draw windows, enumerate (context, centre) pairs --------------------

    def _next_batch(self):
        """The next batch of examples as tensors, or None at an epoch's end or after a dry block."""
        if self._epoch is None:
            self._start_epoch()
        if self._buffer_offset >= self._buffer_size:
            if self._centres_done >= len(self._epoch[0]):  # epoch finished
                self.epoch, self._epoch = self.epoch + 1, None
                self._buffer_size = self._buffer_offset = self._buffer_centres = 0
                return None
            self._fill_buffer()
            if self._buffer_size == 0:  # no centre in this block had a context word
                return None
        start = self._buffer_offset
        end = self._buffer_offset = min(start + self.batch_size, self._buffer_size)
        if self.config.arch == "skipgram":
            contexts, words = self._buffer
            return contexts[start:end], words[start:end]
        contexts, slot_rows, starts, words = self._buffer
        first, last = self._slot_starts[start], self._slot_starts[end]  # this batch's context slots
        batch_rows, batch_starts = slot_rows[first:last] - start, starts[start:end] - first
        return contexts[first:last], batch_rows, batch_starts, words[start:end]

    def _start_epoch(self) -> None:
        """Drop frequent words at random, draw every position's window and the order of the centres."""
        keep = self._rand(len(self._ids)) < gather(self._keep, self._ids)
        ids, sentence_ids = self._ids.masked_select(keep), self._sentence_ids.masked_select(keep)  # (n,)
        windows = torch.randint(1, self.config.window + 1, ids.shape, generator=self._generator, device=self.device)
        order = torch.arange(len(ids), device=self.device)
        if self.config.shuffle:
            order = torch.randperm(len(ids), generator=self._generator, device=self.device)
        # how far each token's context reaches back and ahead: its window, cut at its sentence's ends
        _, lengths = torch.unique_consecutive(sentence_ids, return_counts=True)  # kept tokens per sentence
        ends = torch.cumsum(lengths, 0)  # one past each sentence's last token
        position = torch.arange(len(ids), device=self.device)
        back = torch.minimum(position - (ends - lengths).repeat_interleave(lengths), windows)  # (n,)
        ahead = torch.minimum((ends - 1).repeat_interleave(lengths) - position, windows)  # (n,)
        self._epoch, self._reach, self._centres_done = (ids, sentence_ids, windows, order), (back, ahead), 0

    def _fill_buffer(self) -> None:
        """Turn the next block of centres into training examples."""
        (ids, _, _, order), (back, ahead) = self._epoch, self._reach
        block = max(self.batch_size, 1 << 17)
        centres = order[self._centres_done : self._centres_done + block]  # (M,)
        back, ahead = gather(back, centres), gather(ahead, centres)  # (M,) context words each side
        valid = (self._offsets >= -back[:, None]) & (self._offsets <= ahead[:, None])  # (M, 2W) slots
        contexts = gather(ids, (centres[:, None] + self._offsets).masked_select(valid))  # (P,)
        counts = back + ahead  # (M,) context words of each centre, stored together in `contexts`
        if self.config.arch == "skipgram":  # (P,) pairs
            self._buffer = (contexts, gather(ids, centres).repeat_interleave(counts))
            self._buffer_size = len(contexts)
        else:  # CBOW: one example per centre that has a context
            has_context = counts > 0
            counts, words = counts[has_context], gather(ids, centres[has_context])  # (M',)
            rows = torch.arange(len(words), device=self.device).repeat_interleave(counts)  # (P,)
            starts = torch.cumsum(counts, 0) - counts  # (M',) first slot of each centre
            self._buffer = (contexts, rows, starts, words)
            self._slot_starts = np.append(starts.cpu().numpy(), len(rows))  # (M'+1,) on the host
            self._buffer_size = len(words)
        self._centres_done, self._buffer_centres = self._centres_done + len(centres), len(centres)
        self._buffer_offset = 0

    def _rand(self, *shape) -> torch.Tensor:
        return torch.rand(*shape, generator=self._generator, device=self.device)

    # ---- the SGD steps ---------------------------------------------------------------------------

    def sample_negatives(self, shape: tuple[int, ...], generator=None) -> torch.Tensor:
        """Noise words drawn from noise_probabilities with the alias table."""
        generator = generator or self._generator
        n = math.prod(shape)  # drawn flat: the same numbers as drawing `shape`
        slots = torch.randint(0, len(self.vocab.words), (n,), generator=generator, device=self.device)
        coins = torch.rand(n, generator=generator, device=self.device)
        keep = coins < self._alias_accept.index_select(0, slots)
        return slots.where(keep, self._alias.index_select(0, slots)).view(shape)

    def _step_limit(self, rows: torch.Tensor, curvatures: torch.Tensor, lr: float) -> torch.Tensor:
        """A factor in (0, 1] per contribution to `rows` so that each row's step is at most 1/L.

        A batch sums the gradients of all examples that touch a row: the row takes one gradient step
        on the sum of their losses. Gradient descent overshoots once lr > 1/L, L the loss's
        curvature, and diverges past 2/L; here L <= sum of the examples' 1/4 |x|^2 (sigmoid' <= 1/4,
        x the vector the row is multiplied with). A row hit once or twice is far below the limit and
        takes word2vec.c's step; "the", drawn as noise hundreds of times per batch, would explode
        without it. rows and curvatures: (N,), flat.
        """
        bound = torch.zeros(len(self.vocab.words), device=self.device)
        bound.index_add_(0, rows, curvatures, alpha=0.25).mul_(lr)  # (V,) lr * L per row
        return bound.index_select(0, rows).clamp_(min=1.0).reciprocal_()

    def _negative_sampling_update(
        self, hidden, words, lr: float, negatives=None
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Score each word against K noise words and update their output vectors.

        Returns the batch's summed loss, the error to add to the hidden vectors (word2vec.c's neu1e)
        and each example's curvature for the input side (sum of |output vector|^2 over its targets).
        """
        B, K, d = len(words), self.config.negatives, self.config.dim
        if negatives is None:
            negatives = self.sample_negatives((B, K))  # (B, K)
        targets = torch.cat([words[:, None], negatives], dim=1).view(-1)  # (B*(1+K),) flat
        used = F.pad((negatives != words[:, None]).float(), (1, 0), value=1.0)  # (B, 1+K)
        out_vectors = self.w_out.index_select(0, targets).view(B, 1 + K, d)  # (B, 1+K, d)
        f = torch.bmm(hidden[:, None, :], out_vectors.transpose(1, 2)).view(B, 1 + K)  # dots
        sigmoid = torch.sigmoid(f).masked_fill_(f > MAX_EXP, 1.0).masked_fill_(f < -MAX_EXP, 0.0)
        g = (self._labels - sigmoid).mul_(used).mul_(lr)  # (B, 1+K); noise equal to the word skipped
        hidden_error = torch.bmm(g[:, None, :], out_vectors).view(B, d)  # word2vec.c's neu1e
        curvatures_out = (used * hidden.square().sum(1, keepdim=True)).view(-1)  # |h|^2 per target
        g.mul_(self._step_limit(targets, curvatures_out, lr).view(B, 1 + K))
        self.w_out.index_add_(0, targets, (g[:, :, None] * hidden[:, None, :]).view(-1, d))
        loss = -(F.logsigmoid(f * self._signs).mul_(used)).sum()
        curvatures = torch.linalg.vector_norm(out_vectors, dim=2).square_().mul_(used).sum(1)  # (B,)
        return loss, hidden_error, curvatures

    def _skipgram_step(self, contexts, words, lr: float, negatives=None) -> torch.Tensor:
        # word2vec.c's skip-gram: the context word's input vector predicts the centre word
        hidden = self.w_in.index_select(0, contexts)  # (B, d)
        loss, error, curvatures = self._negative_sampling_update(hidden, words, lr, negatives)
        error.mul_(self._step_limit(contexts, curvatures, lr)[:, None])
        self.w_in.index_add_(0, contexts, error)
        return loss

    def _cbow_step(self, contexts, slot_rows, starts, words, lr: float, negatives=None) -> torch.Tensor:
        # the mean of the context words' input vectors predicts the centre word
        hidden = F.embedding_bag(contexts, self.w_in, starts, mode="mean")  # (B, d)
        loss, error, curvatures = self._negative_sampling_update(hidden, words, lr, negatives)
        # every context word receives the whole error (word2vec.c, and gensim with cbow_mean=1)
        error = error.index_select(0, slot_rows)  # (P, d)
        error.mul_(self._step_limit(contexts, curvatures.index_select(0, slot_rows), lr)[:, None])
        self.w_in.index_add_(0, contexts, error)  # contexts, slot_rows: (P,)
        return loss


def train_word2vec(
    sentences: list[list[str]],
    config: Word2VecConfig | None = None,
    device: str = "cpu",
    callback=None,
) -> KeyedVectors:
    """Train to the end and return the word vectors; callback(metrics) runs every 100 steps."""
    trainer = Word2VecTrainer(sentences, config or Word2VecConfig(), device)
    while not trainer.done:
        metrics = trainer.train_steps(100)
        if callback is not None:
            callback(metrics)
    return trainer.keyed_vectors()
