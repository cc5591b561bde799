"""The live-training kit's view of a word2vec trainer: one kit step is 1% of an epoch.

`TickedTrainer` adapts a `Word2VecTrainer` (models/word2vec.py) to app/training.py, so progress and ETA are
exact whatever the corpus and batch size; `make_config` turns the page's settings into the trainer's config.
No Streamlit calls here.
"""

from __future__ import annotations

import time

from models.word2vec import Word2VecConfig, Word2VecTrainer

TICKS_PER_EPOCH = 100  # kit steps per epoch
ARCHITECTURES = {"skipgram": "skip-gram", "cbow": "CBOW"}


class TickedTrainer:
    """A Word2VecTrainer whose `train_steps(n)` trains n ticks (1% of an epoch each)."""

    def __init__(self, model: Word2VecTrainer):
        self.model = model
        self.total_ticks = model.config.epochs * TICKS_PER_EPOCH
        self.ticks = 0

    @property
    def done(self) -> bool:
        return self.model.done

    def train_steps(self, n: int) -> dict:
        model = self.model
        self.ticks = min(self.total_ticks, self.ticks + n)
        target = self.ticks / self.total_ticks
        start, words_before = time.perf_counter(), model.words_processed
        loss_sum, examples = 0.0, 0
        # one batch at a time until the progress (in corpus words) reaches the tick, and at least one
        # batch: on a small text one batch can span more than a tick; the last tick ends training
        trained = False
        while not model.done and (not trained or target >= 1.0 or model.progress < target):
            trained, pairs_before = True, model.pairs_processed
            metrics = model.train_steps(1)
            new = model.pairs_processed - pairs_before
            if new:
                loss_sum, examples = loss_sum + metrics["loss"] * new, examples + new
        seconds = max(time.perf_counter() - start, 1e-9)
        return {
            "loss": loss_sum / examples if examples else float("nan"),  # mean NS loss per example
            "epochs": model.progress * model.config.epochs,  # the loss curve's x axis
            "lr": model.lr,
            "words_per_s": (model.words_processed - words_before) / seconds,
            "words_processed": model.words_processed,
            "pairs_processed": model.pairs_processed,
        }


def make_config(settings: dict) -> Word2VecConfig:
    """The trainer's config from the page's settings (raises ValueError for impossible values)."""
    return Word2VecConfig(
        arch=settings["arch"],
        dim=int(settings["dim"]),
        window=int(settings["window"]),
        negatives=int(settings["negatives"]),
        ns_exponent=float(settings["ns_exponent"]),
        subsample=float(settings["subsample"]),
        min_count=int(settings["min_count"]),
        epochs=int(settings["epochs"]),
        lr=float(settings["lr"]),
        batch_size=int(settings["batch_size"]) or None,
        seed=int(settings["seed"]),
    )


def build_trainer(sentences: list, settings: dict, device: str) -> TickedTrainer:
    return TickedTrainer(Word2VecTrainer(sentences, make_config(settings), device))
