"""Word2vec: our batched torch trainer against gensim's C trainer, side by side in one process.

Speed, at three settings, with the same corpus, settings and threads on both sides:
- issue 31's: skip-gram, dim 64, window 4, 8 negatives, subsample 1e-3, min_count 5, 3 epochs, seed 11,
  on 884k tokens (the Wikipedia sample twice and the start of gensim's Lee corpus);
- the lesson's defaults (dim 100, window 5, 5 negatives), 5 epochs on the Wikipedia sample, skip-gram and CBOW.
On the CPU torch has 2 threads (its default on the project's 2-core machine) and each pair of runs uses the same
number of threads: our workers=2 (Hogwild, one torch thread each) against gensim's workers=2, and our workers=1
(the reproducible path) against gensim's workers=1. A thread-handling regression shows here: with each Hogwild
worker forking torch's 2 threads, issue 31's setting fell from 0.51x to 0.31x.
Each pair is timed in turn, `repeats` times; the ratio compares the best times (another program's load only
slows a run down), the note also gives the median ratio and the load average. Throughput counts corpus words
(rare words included) per second of training, vocabulary building excluded.
Quality, on the vectors of the workers=1 runs: WordSim-353 and SimLex-999 Spearman, Google analogy accuracy
(restrict_vocab 30000), each with its coverage, and at issue 31's setting the agreement of the 10 nearest
neighbours with gensim's (gensim against itself under another seed as the reference).
With device="cuda" our trainer runs on the GPU (default batch size) and gensim, CPU only, with 1 and 2 workers.
"""

from __future__ import annotations

import os
import statistics
import time
from dataclasses import replace

import numpy as np
import torch

from models.corpora import load_corpus
from models.word_embeddings.engine import Word2VecTrainer
from models.word_embeddings.evaluation import evaluate_analogies, evaluate_word_pairs, train_gensim_reference
from models.word_embeddings.word2vec import Word2VecConfig

LESSON = "word_embeddings"
THREADS = 2  # torch's threads, and the most workers on either side
ISSUE_31_TOKENS = 884_000


def _issue_31_corpus() -> list[list[str]]:
    """~884k tokens: the Wikipedia sample twice, then sentences of gensim's Lee corpus."""
    sentences, tokens = load_corpus("wiki") * 2, 0
    tokens = sum(len(s) for s in sentences)
    for sentence in load_corpus("lee"):
        if tokens >= ISSUE_31_TOKENS:
            break
        sentences.append(sentence)
        tokens += len(sentence)
    return sentences


def _settings(quick: bool) -> list[tuple[str, str, list, Word2VecConfig]]:
    """(name, corpus description, sentences, config) of each setting measured."""
    issue = Word2VecConfig(dim=64, window=4, negatives=8, subsample=1e-3, min_count=5, epochs=3, seed=11)
    if quick:  # a slice of the Wikipedia sample, one epoch
        wiki = load_corpus("wiki")[:4000]
        return [
            ("skipgram d64 w4 k8 (issue 31)", "wiki slice", wiki, replace(issue, epochs=1)),
            ("cbow, lesson defaults", "wiki slice", wiki, Word2VecConfig(arch="cbow", epochs=1)),
        ]
    wiki = load_corpus("wiki")
    return [
        ("skipgram d64 w4 k8 (issue 31)", "wiki x2 + lee", _issue_31_corpus(), issue),
        ("skipgram, lesson defaults", "wiki", wiki, Word2VecConfig(arch="skipgram", epochs=5)),
        ("cbow, lesson defaults", "wiki", wiki, Word2VecConfig(arch="cbow", epochs=5)),
    ]


def _train_ours(sentences, config, device):
    trainer = Word2VecTrainer(sentences, config, device)
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    start = time.perf_counter()
    while not trainer.done:
        trainer.train_steps(200)  # ends with a float(loss): the device is synchronised
    return trainer.keyed_vectors(), time.perf_counter() - start


def _train_gensim(sentences, config, workers):
    return train_gensim_reference(sentences, config, workers)


def _quality(vectors) -> dict:
    wordsim = evaluate_word_pairs(vectors, "wordsim353")
    simlex = evaluate_word_pairs(vectors, "simlex999")
    analogies = evaluate_analogies(vectors, "google", restrict_vocab=30_000)
    return {"wordsim": wordsim, "simlex": simlex, "analogies": analogies}


def neighbour_agreement(a, b, n_words: int = 1000, k: int = 10) -> float:
    """Mean share of the k nearest neighbours (cosine) that two sets of vectors agree on, over the n_words
    most frequent words of `a` (ours or gensim's KeyedVectors)."""
    words_a = list(getattr(a, "index_to_word", None) or a.index_to_key)
    words_b = list(getattr(b, "index_to_word", None) or b.index_to_key)
    shared = set(words_b)
    words = [w for w in words_a if w in shared][:n_words]
    overlaps = []
    for kv, vocab in ((a, words_a), (b, words_b)):
        index = {w: i for i, w in enumerate(vocab)}
        vectors = np.asarray(kv.vectors, dtype=np.float32)[[index[w] for w in words]]  # (n, d)
        normed = vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
        cosines = normed @ normed.T  # (n, n), among the n words
        np.fill_diagonal(cosines, -np.inf)
        overlaps.append(np.argsort(-cosines, axis=1)[:, :k])  # (n, k) neighbours' positions in `words`
    shared_counts = [len(set(x) & set(y)) for x, y in zip(*overlaps)]
    return float(np.mean(shared_counts) / k)


def _row(task, ours, reference, unit, note, higher_is_better=True):
    ratio = None
    if reference is not None and ours is not None and reference != 0:
        ratio = ours / reference if higher_is_better else reference / ours
    return {
        "lesson": LESSON,
        "task": task,
        "ours": ours,
        "reference": reference,
        "unit": unit,
        "ratio": ratio,
        "note": note,
    }


def _timings(sentences, config, workers, device, have_gensim, repeats, ours=True):
    """Our run (if `ours`) and gensim's with `workers` in turn, `repeats` times:
    (our vectors, our seconds, gensim's vectors, gensim's seconds)."""
    ours_kv, ours_s, ref_kv, ref_s = None, [], None, []
    for _ in range(repeats):
        if ours:
            ours_kv, seconds = _train_ours(sentences, config, device)
            ours_s.append(seconds)
        if have_gensim:
            ref_kv, seconds = _train_gensim(sentences, config, workers)
            ref_s.append(seconds)
    return ours_kv, ours_s, ref_kv, ref_s


def run(quick: bool = False, device: str = "cpu") -> list[dict]:
    try:
        import gensim  # noqa: F401

        have_gensim = True
    except ImportError:
        have_gensim = False
    repeats = 1 if quick else 3
    threads_before = torch.get_num_threads()
    rows = []
    try:
        torch.set_num_threads(THREADS)
        for name, corpus_name, sentences, config in _settings(quick):
            tokens = sum(len(s) for s in sentences)
            corpus = f"{corpus_name} {tokens:,} words x {config.epochs} epoch(s)"
            if device != "cpu":  # warm up the device (kernel loading, allocator) before timing
                _train_ours(sentences[:500], Word2VecConfig(arch=config.arch, epochs=1), device)
            for workers in (1, THREADS):
                if device == "cpu":  # the same threads on both sides
                    timed = _timings(sentences, replace(config, workers=workers), workers, device, have_gensim, repeats)
                else:  # on a GPU ours runs once per setting, against gensim with 1 and 2 workers
                    again = _timings(sentences, config, workers, device, have_gensim, repeats, ours=workers == 1)
                    timed = again if workers == 1 else (*timed[:2], *again[2:])
                ours_kv, ours_s, ref_kv, ref_s = timed
                if workers == 1:
                    vectors = (ours_kv, ref_kv)
                where = f"cpu, workers={workers}" if device == "cpu" else device
                note = f"{corpus}; best of {len(ours_s)}: ours {min(ours_s):.2f} s"
                if ref_s:
                    median = statistics.median(ref_s) / statistics.median(ours_s)
                    note += f", gensim {min(ref_s):.2f} s; median ratio {median:.2f}x"
                else:
                    note += "; gensim not installed"
                note += f"; torch threads {THREADS}, load {os.getloadavg()[0]:.1f}"
                rows.append(
                    _row(
                        f"{name}: training ({where}) vs gensim workers={workers}",
                        tokens * config.epochs / min(ours_s),
                        tokens * config.epochs / min(ref_s) if ref_s else None,
                        "words/s",
                        note,
                    )
                )
            if not quick:  # quality on a slice after one epoch is noise (and may be negative)
                rows.extend(_quality_rows(name, vectors, corpus))
                if have_gensim and "issue 31" in name:
                    rows.append(_agreement_row(name, sentences, config, vectors, corpus))
    finally:
        torch.set_num_threads(threads_before)
    return rows


def _agreement_row(name, sentences, config, vectors, corpus) -> dict:
    ours, gensim_same_seed = vectors
    gensim_other_seed, _ = _train_gensim(sentences, replace(config, seed=config.seed + 1), workers=1)
    return _row(
        f"{name}: 10 nearest neighbours shared with gensim's",
        neighbour_agreement(ours, gensim_same_seed),
        neighbour_agreement(gensim_other_seed, gensim_same_seed),
        "share",
        f"1000 most frequent words; reference: gensim with seed {config.seed + 1} against seed {config.seed}; {corpus}",
    )


def _quality_rows(name: str, vectors: tuple, corpus: str) -> list[dict]:
    ours, ref = _quality(vectors[0]), vectors[1] and _quality(vectors[1])
    rows = []
    for key, title in (("wordsim", "WordSim-353"), ("simlex", "SimLex-999")):
        o = ours[key]
        rows.append(
            _row(
                f"{name}: {title} Spearman",
                o["spearman"],
                ref[key]["spearman"] if ref else None,
                "rho",
                f"{o['pairs_used']}/{o['pairs_total']} pairs covered; {corpus}",
            )
        )
    o = ours["analogies"]
    note = f"{o['covered']}/{o['questions']} questions covered (restrict_vocab 30000)"

    def semantic_syntactic(result) -> str:
        groups = result["groups"]
        return "/".join(f"{groups[g]['accuracy']:.3f}" if g in groups else "-" for g in ("semantic", "syntactic"))

    if ref:
        note += f"; sem/syn ours {semantic_syntactic(o)}, gensim {semantic_syntactic(ref['analogies'])}"
    rows.append(
        _row(
            f"{name}: Google analogy accuracy",
            o["accuracy"],
            ref["analogies"]["accuracy"] if ref else None,
            "accuracy",
            note,
        )
    )
    return rows


if __name__ == "__main__":
    for row in run(quick=True):
        print(row)
