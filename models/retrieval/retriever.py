"""Sparse and dense retrieval: BM25 over words, and MiniLM sentence vectors in a faiss index.

BM25 (Robertson & Zaragoza 2009, "The Probabilistic Relevance Framework: BM25 and Beyond"): a passage d scores

    score(q, d) = Σ_{t ∈ q}  idf(t) · tf(t, d) · (k1 + 1) / (tf(t, d) + k1 · (1 − b + b · |d| / avgdl))

    "robertson" (rank-bm25's BM25Okapi):  idf(t) = ln((N − df(t) + 0.5) / (df(t) + 0.5))
    "lucene" (Lucene, Elasticsearch, bm25s' default): idf(t) = ln(1 + (N − df(t) + 0.5) / (df(t) + 0.5)), never
    negative, and without the constant factor (k1 + 1), which changes no ranking

tf saturates (k1: how fast), long passages are discounted (b: how much), rare words count most (idf). Words only:
"capital" never matches "capitol", and a question phrased unlike its passage finds nothing.

Dense retrieval (Karpukhin et al. 2020, DPR, https://arxiv.org/abs/2004.04906; here Reimers & Gurevych 2019's
all-MiniLM-L6-v2, https://arxiv.org/abs/1908.10084): a passage and a question are each one unit vector (MiniLM's
token states mean-pooled, models/embedding_spaces/spaces.py), the score is their cosine, and a faiss inner-product
index finds the largest. Meaning, not spelling: paraphrases match, but so do passages that are merely on topic.

`bm25_scores` is the formula above in numpy, written to be read; `Retriever(kind="bm25")` ranks with bm25s (the
same formula over a sparse matrix), and tests/models/test_retrieval.py checks that the two agree and that the
"robertson" variant equals rank-bm25.
"""

from __future__ import annotations

import hashlib
import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from bm25s.stopwords import STOPWORDS_EN

from models.text import tokenize_words

# bm25s' English stopwords plus the question words, which every question has and no passage needs
STOPWORDS = frozenset(STOPWORDS_EN) | frozenset("what which who whom whose when where why how does did do".split())


def bm25_tokens(text: str) -> list[str]:
    """Lowercase words without stopwords: what both BM25 implementations index and query."""
    return [w for w in tokenize_words(text) if w not in STOPWORDS]


@dataclass
class BM25Config:
    k1: float = 1.5  # term-frequency saturation: 0 = a word counts once however often it appears
    b: float = 0.75  # length normalisation: 0 = none, 1 = full
    idf: str = "lucene"  # "lucene" (always positive) or "robertson" (rank-bm25's; negative for common words)

    def __post_init__(self):
        if not 0 <= self.k1 <= 10:
            raise ValueError(f"k1 must be between 0 and 10 (got {self.k1}); 1.2 to 2 is usual.")
        if not 0 <= self.b <= 1:
            raise ValueError(f"b must be between 0 and 1 (got {self.b}).")
        if self.idf not in ("lucene", "robertson"):
            raise ValueError(f"idf must be 'lucene' or 'robertson' (got {self.idf!r}).")


def bm25_scores(query: list[str], documents: list[list[str]], config: BM25Config | None = None) -> np.ndarray:
    """(N,) the BM25 score of every tokenised document for the tokenised query: the formula, term by term."""
    config = config or BM25Config()
    n_docs = len(documents)
    lengths = np.array([len(d) for d in documents], dtype=np.float64)  # (N,)
    avgdl = lengths.mean()
    counts = [Counter(d) for d in documents]
    scores = np.zeros(n_docs)
    for term in query:  # a word asked twice counts twice (as rank-bm25 and bm25s do)
        tf = np.array([c[term] for c in counts], dtype=np.float64)  # (N,)
        df = (tf > 0).sum()
        ratio = (n_docs - df + 0.5) / (df + 0.5)
        idf = np.log1p(ratio) if config.idf == "lucene" else np.log(ratio)
        saturation = 1.0 if config.idf == "lucene" else config.k1 + 1
        scores += idf * tf * saturation / (tf + config.k1 * (1 - config.b + config.b * lengths / avgdl))
    return scores


@dataclass
class Retriever:
    """Passages indexed for search: `kind` "bm25" (bm25s) or "dense" (MiniLM vectors in a faiss index)."""

    passages: list[str]
    kind: str
    index: object = field(repr=False)  # bm25s.BM25 or faiss.IndexFlatIP
    encoder: tuple | None = field(default=None, repr=False)  # (model, tokenizer) for dense
    vectors: np.ndarray | None = field(default=None, repr=False)  # (N, d) unit passage vectors (dense)

    @classmethod
    def build(
        cls,
        passages: list[str],
        kind: str = "bm25",
        encoder=None,
        config: BM25Config | None = None,
        cache: Path | None = None,
    ):
        """Index `passages` (strings). Dense needs `encoder` = (model, tokenizer) of a sentence encoder (MiniLM);
        with `cache` (a folder) its passage vectors are kept on disk, keyed by the encoder's weights and the texts."""
        passages = [p for p in passages]
        if not passages or not any(p.strip() for p in passages):
            raise ValueError("No passages to index: the corpus is empty.")
        if kind == "bm25":
            import bm25s

            config = config or BM25Config()
            method = "lucene" if config.idf == "lucene" else "robertson"
            index = bm25s.BM25(k1=config.k1, b=config.b, method=method)
            index.index([bm25_tokens(p) for p in passages], show_progress=False)
            return cls(passages, kind, index)
        if kind == "dense":
            import faiss

            if encoder is None:
                raise ValueError("Dense retrieval needs a sentence encoder: pass encoder=(model, tokenizer).")
            vectors = encode_cached(encoder, passages, cache) if cache else encode(encoder, passages)  # (N, d)
            index = faiss.IndexFlatIP(vectors.shape[1])  # inner product of unit vectors = cosine
            index.add(vectors)
            return cls(passages, kind, index, encoder, vectors)
        raise ValueError(f"Unknown retriever kind {kind!r}; choose 'bm25' or 'dense'.")

    def scores(self, query: str) -> np.ndarray:
        """(N,) every passage's score for `query` (BM25, or cosine)."""
        if self.kind == "bm25":
            tokens = bm25_tokens(query)
            if not tokens:
                raise ValueError("The question has no words BM25 can match (only stopwords, or no letters at all).")
            return np.asarray(self.index.get_scores(tokens), dtype=np.float64)
        return (self.vectors @ encode(self.encoder, [query])[0]).astype(np.float64)

    def search(self, query: str, k: int = 3) -> list[tuple[int, float]]:
        """The k best passages for `query`, best first: [(passage index, score)]."""
        if not (query or "").strip():
            raise ValueError("The question is empty: type a question.")
        if not 1 <= k <= len(self.passages):
            raise ValueError(f"k must be between 1 and the {len(self.passages)} passages (got {k}).")
        if self.kind == "dense":
            scores, ids = self.index.search(encode(self.encoder, [query]), k)  # (1, k) each
            return [(int(i), float(s)) for i, s in zip(ids[0], scores[0])]
        scores = self.scores(query)
        if not scores.any():
            words = ", ".join(bm25_tokens(query)[:8])
            raise ValueError(f"No passage contains any of the question's words ({words}): BM25 finds nothing.")
        order = np.argsort(-scores, kind="stable")[:k]
        return [(int(i), float(scores[i])) for i in order]


def encode(encoder, texts: list[str]) -> np.ndarray:
    """(N, d) float32 unit vectors of `texts`: MiniLM's pooled states, as sentence-transformers computes them."""
    from models.embedding_spaces.spaces import sentence_embeddings

    model, tokenizer = encoder
    return np.ascontiguousarray(sentence_embeddings(model, tokenizer, texts).cpu().numpy(), dtype=np.float32)


def _encoder_key(encoder, texts: list[str]) -> str:
    """A digest of the encoder (its class, every parameter's shape and first values, the tokenizer's vocabulary
    size) and of the texts: another model, other weights or other texts give another key."""
    model, tokenizer = encoder
    digest = hashlib.sha256(f"{type(model).__name__} {len(tokenizer)}".encode())
    for name, param in model.named_parameters():
        head = param.detach().flatten()[:64].float().cpu().numpy()
        digest.update(f"{name} {tuple(param.shape)}".encode() + head.tobytes())
    for text in texts:
        digest.update(text.encode("utf-8", "surrogatepass") + b"\0")
    return digest.hexdigest()[:32]


def encode_cached(encoder, texts: list[str], cache: Path) -> np.ndarray:
    """`encode(encoder, texts)`, read from `cache` when these texts were encoded by these weights before (MiniLM
    spends seconds on a few hundred passages on a CPU; a server, a test worker or a restart reads them back in ms).
    A file that cannot be read, or has the wrong shape, is computed again and rewritten."""
    path = Path(cache) / f"vectors-{_encoder_key(encoder, texts)}.npy"
    try:
        vectors = np.load(path, allow_pickle=False)
        if vectors.shape[0] == len(texts) and vectors.dtype == np.float32:
            return vectors
    except (OSError, ValueError):
        pass
    vectors = encode(encoder, texts)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(f".{os.getpid()}.tmp")
        with open(partial, "wb") as file:
            np.save(file, vectors, allow_pickle=False)
        os.replace(partial, path)  # atomic: a reader in another process sees the whole file or none
    except OSError:
        pass  # a read-only disk: the vectors are still computed, just not kept
    return vectors


def agreement(first: list[tuple[int, float]], second: list[tuple[int, float]]) -> dict[str, list[int]]:
    """Which passages two top-k lists share and which only one of them found."""
    a, b = [i for i, _ in first], [i for i, _ in second]
    return {
        "both": [i for i in a if i in b],
        "only_first": [i for i in a if i not in b],
        "only_second": [i for i in b if i not in a],
    }
