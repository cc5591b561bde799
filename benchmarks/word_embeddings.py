"""Word2vec: our batched torch trainer against gensim's C trainer on the Wikipedia sample.

Same corpus, settings (dim 100, window 5, 5 negatives, subsample 1e-3, min_count 5) and epochs on
both sides; on the CPU the same number of threads (gensim's workers = our Hogwild workers, one torch
thread each). Throughput counts corpus words (rare words included) per second of training,
vocabulary building excluded. Quality is measured on the vectors of the one-thread runs: WordSim-353
and SimLex-999 Spearman and Google analogy accuracy (restrict_vocab 30000), each with its coverage.
With device="cuda" our trainer runs on the GPU (default batch size) and gensim, CPU only, with 1 and
2 workers.
"""

from __future__ import annotations

import time

import torch

from models.corpora import load_corpus
from models.word2vec import Word2VecConfig
from models.word2vec_engine import Word2VecTrainer
from models.word2vec_eval import evaluate_analogies, evaluate_word_pairs, train_gensim_reference

LESSON = "word_embeddings"


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


def run(quick: bool = False, device: str = "cpu") -> list[dict]:
    try:
        import gensim  # noqa: F401

        have_gensim = True
    except ImportError:
        have_gensim = False
    sentences, epochs = load_corpus("wiki"), 5
    if quick:
        sentences, epochs = sentences[:4000], 1
    total_words = sum(len(s) for s in sentences)
    corpus = f"wiki {'slice ' if quick else ''}{total_words:,} words x {epochs} epoch(s)"
    threads_before = torch.get_num_threads()
    rows = []
    try:
        for arch in ("skipgram", "cbow"):
            if device != "cpu":  # warm up the device (kernel loading, allocator) before timing
                _train_ours(sentences[:500], Word2VecConfig(arch=arch, epochs=1), device)
            quality, ours_s = {}, None
            for workers in (1, 2):
                # on the CPU, as many threads as gensim: Hogwild workers of one torch thread each
                config = Word2VecConfig(arch=arch, epochs=epochs)
                if device == "cpu":
                    torch.set_num_threads(1)
                    config = Word2VecConfig(arch=arch, epochs=epochs, workers=workers)
                if device == "cpu" or ours_s is None:
                    ours_kv, ours_s = _train_ours(sentences, config, device)
                ref_kv, ref_s = (None, None)
                if have_gensim:
                    ref_kv, ref_s = _train_gensim(sentences, config, workers)
                if workers == 1:
                    quality = {"ours": _quality(ours_kv), "ref": ref_kv and _quality(ref_kv)}
                where = f"cpu, {workers} worker thread(s)" if device == "cpu" else device
                note = f"{corpus}; ours {ours_s:.2f} s"
                note += f", gensim {ref_s:.2f} s" if ref_s else "; gensim not installed"
                rows.append(
                    _row(
                        f"{arch} training ({where}) vs gensim workers={workers}",
                        total_words * epochs / ours_s,
                        total_words * epochs / ref_s if ref_s else None,
                        "words/s",
                        note,
                    )
                )
            rows.extend(_quality_rows(arch, quality, corpus))
    finally:
        torch.set_num_threads(threads_before)
    return rows


def _quality_rows(arch: str, quality: dict, corpus: str) -> list[dict]:
    ours, ref = quality["ours"], quality["ref"]
    rows = []
    for key, title in (("wordsim", "WordSim-353"), ("simlex", "SimLex-999")):
        o = ours[key]
        rows.append(
            _row(
                f"{arch} {title} Spearman",
                o["spearman"],
                ref[key]["spearman"] if ref else None,
                "rho",
                f"{o['pairs_used']}/{o['pairs_total']} pairs covered; {corpus}",
            )
        )
    o = ours["analogies"]
    semantic, syntactic = o["groups"].get("semantic"), o["groups"].get("syntactic")
    note = f"{o['covered']}/{o['questions']} questions covered (restrict_vocab 30000)"
    if ref:
        r = ref["analogies"]
        note += f"; ours sem/syn {semantic['accuracy']:.3f}/{syntactic['accuracy']:.3f}, gensim "
        note += f"{r['groups']['semantic']['accuracy']:.3f}/{r['groups']['syntactic']['accuracy']:.3f}"
    rows.append(
        _row(
            f"{arch} Google analogy accuracy",
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
