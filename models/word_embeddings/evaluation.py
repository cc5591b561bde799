"""Word vectors and how to judge them: neighbours, 3CosAdd analogies, word-similarity benchmarks.

What: `KeyedVectors` holds one vector per word and answers `most_similar`, `analogy` and
`similarity` queries with cosine similarity, as gensim's KeyedVectors does. The evaluation helpers
score any set of vectors, ours or gensim's, on the classic intrinsic benchmarks:
- word similarity: Spearman correlation between human scores and cosine similarities on WordSim-353
  (Finkelstein et al. 2002) and SimLex-999 (Hill et al. 2015, https://arxiv.org/abs/1408.3456);
- analogies: Google's questions-words (Mikolov et al. 2013, https://arxiv.org/abs/1301.3781)
  answered with 3CosAdd, argmax_d cos(d, b - a + c) over the most frequent `restrict_vocab` words,
  the query words excluded.
`explain_pair` opens up one training example of a word2vec trainer (noise words, dots, losses).

Why: the page shows both models side by side, so every helper accepts either kind of vectors and
returns the per-item table (what the page plots) with the summary numbers and their coverage: a
small corpus does not know every test word, and a score on 30% of the questions is not comparable
with one on 90%.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
from scipy.stats import pearsonr, spearmanr


class WordNotInVocabularyError(KeyError, ValueError):
    """A query word the vectors do not know (a KeyError, and a ValueError for the pages)."""

    def __init__(self, word: str, vocab_size: int):
        self.word = word
        super().__init__(
            f"'{word}' is not in the vocabulary ({vocab_size:,} words): it is absent from the "
            "corpus or rarer than min_count."
        )

    def __str__(self) -> str:  # KeyError would print the message in quotes
        return str(self.args[0])


def _unit_rows(matrix: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(matrix, axis=-1, keepdims=True)
    return matrix / np.maximum(norms, 1e-12)


@dataclass
class KeyedVectors:
    """Word vectors with lookups: vectors[i] belongs to index_to_word[i], most frequent first."""

    vectors: np.ndarray  # (V, d) float32
    index_to_word: list[str]  # (V,) words
    counts: np.ndarray | None = None  # (V,) corpus counts, when known
    word_to_index: dict[str, int] = field(init=False)

    def __post_init__(self):
        self.word_to_index = {word: i for i, word in enumerate(self.index_to_word)}
        self._normed = None

    def __len__(self) -> int:
        return len(self.index_to_word)

    def __contains__(self, word: str) -> bool:
        return word in self.word_to_index

    def __getitem__(self, word: str) -> np.ndarray:
        return self.vectors[self.index(word)]

    def index(self, word: str) -> int:
        if word not in self.word_to_index:
            raise WordNotInVocabularyError(word, len(self))
        return self.word_to_index[word]

    @property
    def normed_vectors(self) -> np.ndarray:
        if self._normed is None:
            self._normed = _unit_rows(self.vectors.astype(np.float32))  # (V, d)
        return self._normed

    def similarity(self, a: str, b: str) -> float:
        return float(self.normed_vectors[self.index(a)] @ self.normed_vectors[self.index(b)])

    def most_similar(
        self,
        positive: str | list[str],
        negative: list[str] | None = None,
        k: int = 10,
        restrict_vocab: int | None = None,
    ) -> list[tuple[str, float]]:
        """The k words closest (cosine) to the sum of unit vectors, +positive -negative."""
        positive = [positive] if isinstance(positive, str) else list(positive)
        negative = list(negative or [])
        query_ids = [self.index(w) for w in positive + negative]
        signs = np.array([1.0] * len(positive) + [-1.0] * len(negative), dtype=np.float32)
        query = _unit_rows(signs @ self.normed_vectors[query_ids])  # (d,)
        candidates = self.normed_vectors[:restrict_vocab]  # (V', d)
        cosines = candidates @ query  # (V',)
        cosines[[i for i in query_ids if i < len(candidates)]] = -np.inf
        k = min(k, len(candidates) - len(set(query_ids)))
        best = np.argpartition(-cosines, k - 1)[:k] if k > 0 else np.array([], dtype=int)
        best = best[np.argsort(-cosines[best], kind="stable")]
        return [(self.index_to_word[i], float(cosines[i])) for i in best]

    def analogy(self, a: str, b: str, c: str, k: int = 5) -> list[tuple[str, float]]:
        """a : b :: c : ?  answered by 3CosAdd (b - a + c), the three query words excluded."""
        return self.most_similar(positive=[b, c], negative=[a], k=k)

    def to_gensim(self):
        """The same vectors as a gensim KeyedVectors (for side-by-side checks)."""
        from gensim.models import KeyedVectors as GensimKeyedVectors

        kv = GensimKeyedVectors(self.vectors.shape[1])
        kv.add_vectors(self.index_to_word, self.vectors.astype(np.float32))
        return kv


def as_matrix(vectors) -> tuple[np.ndarray, list[str]]:
    """(V, d) matrix and words of our KeyedVectors, gensim's, or a gensim Word2Vec model."""
    vectors = getattr(vectors, "wv", vectors)  # gensim Word2Vec -> its KeyedVectors
    words = getattr(vectors, "index_to_word", None) or getattr(vectors, "index_to_key", None)
    if words is None:
        raise ValueError("Expected word vectors (ours or gensim's KeyedVectors).")
    return np.asarray(vectors.vectors, dtype=np.float32), list(words)


def _lowercase_lookup(words: list[str], restrict_vocab: int | None) -> dict[str, int]:
    """Lowercase word -> index among the first restrict_vocab words (most frequent spelling)."""
    allowed = words[:restrict_vocab]
    return {w.lower(): i for i, w in reversed(list(enumerate(allowed)))}


def _load_pairs(dataset):
    if not isinstance(dataset, str):
        return list(dataset)
    from models.corpora import load_word_pairs

    return load_word_pairs(dataset)


def _load_analogies(dataset):
    if not isinstance(dataset, str):
        return dict(dataset)
    from models.corpora import load_analogies

    return load_analogies(dataset)


def evaluate_word_pairs(vectors, dataset="wordsim353", restrict_vocab: int | None = 300_000) -> dict:
    """Spearman (and Pearson) correlation of cosine similarity with human scores, on covered pairs.

    dataset: "wordsim353", "simlex999" or a list of (word, word, score). Matches gensim's
    `evaluate_word_pairs` (case-insensitive, pairs with an unknown word skipped).
    """
    pairs = _load_pairs(dataset)
    matrix, words = as_matrix(vectors)
    lookup = _lowercase_lookup(words, restrict_vocab)
    covered = [(a, b, s) for a, b, s in pairs if a.lower() in lookup and b.lower() in lookup]
    normed = _unit_rows(matrix)
    rows = []
    for a, b, score in covered:
        cosine = float(normed[lookup[a.lower()]] @ normed[lookup[b.lower()]])
        rows.append({"word_a": a, "word_b": b, "human": float(score), "cosine": cosine})
    human = np.array([r["human"] for r in rows])
    model = np.array([r["cosine"] for r in rows])
    enough = len(rows) >= 3
    return {
        "spearman": float(spearmanr(human, model)[0]) if enough else float("nan"),
        "pearson": float(pearsonr(human, model)[0]) if enough else float("nan"),
        "pairs_used": len(rows),
        "pairs_total": len(pairs),
        "coverage": len(rows) / max(len(pairs), 1),
        "pairs": rows,  # one row per covered pair: the page's scatter plot
    }


def evaluate_analogies(vectors, dataset="google", restrict_vocab: int = 30_000, chunk_size: int = 1024) -> dict:
    """Accuracy of 3CosAdd per section, over the questions whose four words are all known.

    dataset: "google" (questions-words), "toy", or a dict section -> [(a, b, c, d)]. Same answers as
    gensim's `evaluate_word_analogies(..., restrict_vocab=restrict_vocab)`, computed in batched
    matrix products.
    """
    sections = _load_analogies(dataset)
    matrix, words = as_matrix(vectors)
    lookup = _lowercase_lookup(words, restrict_vocab)
    normed = _unit_rows(matrix[: len(words[:restrict_vocab])])  # (V', d)
    group = np.array([lookup[w.lower()] for w in words[:restrict_vocab]])  # (V',) most frequent spelling
    results = []
    for name, questions in sections.items():
        ids = [[lookup[w.lower()] for w in q] for q in questions if all(w.lower() in lookup for w in q)]
        ids = np.array(ids, dtype=np.int64).reshape(-1, 4)  # (Q, 4): a, b, c, expected
        correct = 0
        for start in range(0, len(ids), chunk_size):
            a, b, c, expected = ids[start : start + chunk_size].T  # each (q,)
            query = _unit_rows(normed[b] - normed[a] + normed[c])  # (q, d)
            cosines = query @ normed.T  # (q, V')
            rows = np.arange(len(a))
            for excluded in (a, b, c):
                cosines[rows, excluded] = -np.inf
            # as gensim: among the 5 best, the first that is no case variant of a query word (King
            # for king) is the answer, right if it is a spelling of the expected word
            top = np.argpartition(-cosines, 4, axis=1)[:, :5]  # (q, 5)
            top = np.take_along_axis(top, np.argsort(-cosines[rows[:, None], top], axis=1), 1)
            spelling = group[top]  # (q, 5) the lowercase group of each candidate
            allowed = (spelling != a[:, None]) & (spelling != b[:, None]) & (spelling != c[:, None])
            answer = spelling[rows, allowed.argmax(axis=1)]
            correct += int((allowed.any(axis=1) & (answer == expected)).sum())
        results.append(_section_row(name, correct, len(ids), len(questions)))
    total = _section_row("total", *(sum(r[key] for r in results) for key in ("correct", "covered", "questions")))
    semantic = [r for r in results if not r["section"].startswith("gram")]
    syntactic = [r for r in results if r["section"].startswith("gram")]
    groups = {
        name: _section_row(name, *(sum(r[key] for r in rs) for key in ("correct", "covered", "questions")))
        for name, rs in (("semantic", semantic), ("syntactic", syntactic))
        if rs
    }
    return {**total, "sections": results, "groups": groups}


def _section_row(name: str, correct: int, covered: int, questions: int) -> dict:
    return {
        "section": name,
        "correct": correct,
        "covered": covered,  # questions whose four words are known
        "questions": questions,
        "accuracy": correct / covered if covered else float("nan"),
        "coverage": covered / questions if questions else float("nan"),
    }


def explain_pair(trainer, centre: str, context, negatives_k: int = 5, seed: int = 0) -> dict:
    """One training example under the microscope, with the current vectors (nothing is updated).

    context: one word (skip-gram) or a list of words (CBOW: their mean is the hidden vector).
    Returns the sampled noise words, each target's dot product with the hidden vector, its sigmoid
    (the model's probability that the target is the true word), its loss term and the gradient scale
    label - sigmoid.
    """
    vocab = trainer.vocab
    context_words = [context] if isinstance(context, str) else list(context)
    for word in [centre, *context_words]:
        if word not in vocab.word_to_index:
            raise WordNotInVocabularyError(word, len(vocab.words))
    rng = np.random.default_rng(seed)
    noise = rng.choice(len(vocab.words), size=negatives_k, p=trainer.noise_probabilities)
    targets = [vocab.word_to_index[centre], *noise.tolist()]
    context_ids = [vocab.word_to_index[w] for w in context_words]
    hidden = trainer.w_in[context_ids].mean(0).cpu().double()  # (d,)
    dots = (trainer.w_out[targets].cpu().double() @ hidden).numpy()  # (1+k,)
    labels = np.array([1.0] + [0.0] * negatives_k)
    probabilities = 1 / (1 + np.exp(-dots))
    skipped = np.array([False] + [t == targets[0] for t in targets[1:]])
    loss_terms = np.logaddexp(0.0, -(2 * labels - 1) * dots) * ~skipped  # -log sigmoid(+-dot)
    return {
        "context_words": context_words,
        "centre_word": centre,
        "target_words": [vocab.words[t] for t in targets],  # centre first, then the noise words
        "labels": labels,
        "noise_probabilities": trainer.noise_probabilities[targets],
        "skipped": skipped,  # noise words equal to the centre word are not trained on
        "dots": dots,
        "probabilities": probabilities,
        "loss_terms": loss_terms,
        "loss": float(loss_terms.sum()),
        "gradient_scales": (labels - probabilities) * ~skipped,  # times lr: word2vec.c's g
        "lr": trainer.lr,
    }


def train_gensim_reference(sentences, config, workers: int = 1):
    """gensim's Word2Vec (optimised C) on the same sentences with the same settings: (KeyedVectors, seconds).

    The reference our trainer is compared with on the page, in the benchmark and in the tests.
    """
    from gensim.models import Word2Vec

    model = Word2Vec(
        vector_size=config.dim,
        window=config.window,
        negative=config.negatives,
        ns_exponent=config.ns_exponent,
        sample=config.subsample,
        min_count=config.min_count,
        alpha=config.lr,
        min_alpha=config.min_lr,
        sg=int(config.arch == "skipgram"),
        hs=0,
        cbow_mean=1,
        workers=workers,
        seed=config.seed,
    )
    model.build_vocab(sentences)
    start = time.perf_counter()
    model.train(sentences, total_examples=len(sentences), epochs=config.epochs)
    return model.wv, time.perf_counter() - start
