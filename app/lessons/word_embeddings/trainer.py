"""The live-training kit's view of a word2vec trainer: one kit step is 1% of an epoch.

`TickedTrainer` adapts a `Word2VecTrainer` (models/word_embeddings/engine.py) to app/training.py, so progress and
ETA are exact whatever the corpus and batch size; `PairTrainer` trains skip-gram and CBOW side by side.
A run's settings are the corpus key plus Word2VecConfig's fields, so `config_of` is one line.
No Streamlit calls here.
"""

from __future__ import annotations

import dataclasses
import time

from models.word_embeddings.engine import Word2VecTrainer
from models.word_embeddings.word2vec import Word2VecConfig

TICKS_PER_EPOCH = 100  # kit steps per epoch
ARCHITECTURES = {"skipgram": "skip-gram", "cbow": "CBOW"}
# CBOW's starting rate in the side-by-side comparison. Measured on the Wikipedia sample, 3 epochs, other
# settings at their defaults: at 0.025 (skip-gram's rate) CBOW collapses (PC1 90% of the variance,
# every neighbour of 'january' at cosine 1.000, WordSim 0.03; gensim too); at 0.05 it works (WordSim
# 0.11, skip-gram 0.13); at 0.1 its neighbours of 'january' are all months and WordSim is 0.19.
CBOW_LR = 0.1
QUERY_WORDS = {  # per corpus: a query word, an analogy a : b :: c, the groups drawn, words compared
    "toy": dict(
        query="king",
        a="man",
        b="king",
        c="woman",
        groups="king queen prince princess; man woman boy girl; paris france berlin germany; walked walks ate eats",
        words="king queen man woman paris france",
    ),
    "wiki": dict(
        query="january",
        a="he",
        b="his",
        c="she",
        groups="king queen prince princess; man woman boy girl; paris france berlin germany; "
        "january february july november",
        words="king queen man woman paris france",
    ),
}


def corpus_defaults(corpus: str) -> dict:
    """Sensible query words for a corpus (the Wikipedia sample's for other corpora and user text)."""
    return dict(QUERY_WORDS.get(corpus, QUERY_WORDS["wiki"]))


def corpus_settings(corpus: str) -> dict:
    """`corpus_defaults` as the settings of the tabs that draw them ('train.query', 'onehot.words')."""
    return {f"{'onehot' if name == 'words' else 'train'}.{name}": v for name, v in corpus_defaults(corpus).items()}


class TickedTrainer:
    """A Word2VecTrainer whose `train_steps(n)` trains n ticks (1% of an epoch each)."""

    def __init__(self, model: Word2VecTrainer):
        self.model = model
        self.total_ticks = model.config.epochs * TICKS_PER_EPOCH
        self.ticks = 0
        self._snapshot = None  # (pairs processed, KeyedVectors): one copy per chunk, not per chart

    @property
    def done(self) -> bool:
        return self.model.done

    def keyed_vectors(self):
        """The run's word vectors now (a snapshot, taken once per trained chunk)."""
        if self._snapshot is None or self._snapshot[0] != self.model.pairs_processed:
            self._snapshot = (self.model.pairs_processed, self.model.keyed_vectors())
        return self._snapshot[1]

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
            # mean NS loss per example; none for a chunk that made no pair (the kit stops on a NaN loss)
            **({"loss": loss_sum / examples} if examples else {}),
            "epochs": model.progress * model.config.epochs,  # the loss curve's x axis
            "lr": model.lr,
            "words_per_s": (model.words_processed - words_before) / seconds,
            "words_processed": model.words_processed,
            "pairs_processed": model.pairs_processed,
        }


def config_of(settings: dict) -> Word2VecConfig:
    """The config a run's settings hold (the corpus key and Word2VecConfig's fields)."""
    return Word2VecConfig(**{f.name: settings[f.name] for f in dataclasses.fields(Word2VecConfig)})


def build_trainer(sentences: list, settings: dict, device: str) -> TickedTrainer:
    return TickedTrainer(Word2VecTrainer(sentences, config_of(settings), device))


class PairTrainer:
    """Two word2vec runs on the same corpus (e.g. skip-gram and CBOW), trained tick by tick side by
    side: `train_steps(n)` gives each n ticks and reports both losses."""

    def __init__(self, sentences: list, configs: dict[str, Word2VecConfig], device: str):
        self.configs = configs  # {label: config}
        self.trainers = {
            label: TickedTrainer(Word2VecTrainer(sentences, config, device)) for label, config in configs.items()
        }
        self.seconds = dict.fromkeys(configs, 0.0)  # training time of each, for words per second

    @property
    def done(self) -> bool:
        return all(t.done for t in self.trainers.values())

    def train_steps(self, n: int) -> dict:
        metrics = {}
        for label, ticked in self.trainers.items():
            if ticked.done:
                continue
            start = time.perf_counter()
            row = ticked.train_steps(n)
            self.seconds[label] += time.perf_counter() - start
            metrics[f"loss {label}"] = row["loss"]
            metrics["epochs"] = row["epochs"]
        return metrics
