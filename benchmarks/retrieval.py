"""Retrieval benchmarks: the kNN-LM datastore and evaluation against SmolLM2 alone, and search against brute force.

- datastore build: tokens/s of reading keys (the forward pass stops at the last FFN's input) against a full
  forward pass with logits, the LM alone's cost per token;
- kNN-LM evaluation: held-out tokens/s with a 100k-entry datastore (the LM, one exact faiss search per token, the
  mixture) against the LM alone. Goal (issue 27): at least 0.5×. The 100k keys are real SmolLM2 keys tiled with
  noise (an exact flat search costs the same whatever the keys hold), so the CPU run need not read 100k tokens;
- nearest-neighbour search: faiss IndexFlatL2 against numpy brute force (||q||² − 2q·k + ||k||², argpartition)
  on the same 100k keys, queries/s, same neighbours checked;
- BM25: bm25s (ours ranks with it) against rank-bm25's BM25Okapi on the passage pool, queries/s.
SmolLM2's weights where available, else a random model of its shapes (speed does not depend on the weights).
faiss-cpu searches on the CPU also when the LM runs on a GPU.
"""

from __future__ import annotations

import numpy as np
import torch

from benchmarks.timing import median_seconds, row
from models.retrieval import Datastore, DatastoreConfig, KnnLMConfig, knn_lm_from_scores, score_ids
from models.retrieval.datastore import context_vectors


def _row(task, ours, reference, unit, note):
    return row("retrieval", task, ours, reference, unit, note)


def _model(device: str):
    try:
        from models.registry import load_model

        model, tokenizer = load_model("smollm2", device=device)
        return model, tokenizer, "SmolLM2-135M (Q4_1 GGUF, dequantised)"
    except Exception:  # noqa: BLE001 - no package or cache on this machine
        from models.registry import random_smollm2

        return random_smollm2(device), None, "random SmolLM2-shaped Llama"


def _ids(tokenizer, length: int) -> list[int]:
    if tokenizer is None:
        return torch.randint(0, 49152, (length,), generator=torch.Generator().manual_seed(0)).tolist()
    from models.corpora import load_corpus_text

    return tokenizer(load_corpus_text("wiki")[: length * 8], add_special_tokens=False)["input_ids"][:length]


def _tiled_store(keys: np.ndarray, values: np.ndarray, n: int) -> Datastore:
    """n entries: the real keys repeated, each copy with a little noise (so no two keys are equal)."""
    rng = np.random.default_rng(0)
    reps = -(-n // len(keys))
    tiled = np.tile(keys, (reps, 1))[:n] + rng.normal(0, 0.01, (n, keys.shape[1])).astype(np.float32)
    return Datastore.from_arrays(tiled, np.tile(values, reps)[:n])


@torch.inference_mode()
def lm_rows(device: str, store_tokens: int, eval_tokens: int, big_store: int, repeats: int) -> list[dict]:
    model, tokenizer, name = _model(device)
    ids = _ids(tokenizer, store_tokens + eval_tokens + 2)
    store_ids, held_ids = ids[: store_tokens + 1], ids[store_tokens + 1 :]
    chunk = torch.tensor([store_ids[:512]], device=device)

    keys_only = median_seconds(lambda: context_vectors(model, chunk), device, repeats)
    full = median_seconds(lambda: torch.log_softmax(model(chunk).logits.float(), -1), device, repeats)
    rows = [
        _row(
            "datastore build (keys of 512 tokens)",
            chunk.shape[1] / keys_only,
            chunk.shape[1] / full,
            "tokens/s",
            f"{name} on {device}; reference: a full forward pass with log-softmax (the LM alone); ours stops at "
            "the last FFN's input",
        )
    ]
    small = Datastore.build_from_ids(model, [store_ids], DatastoreConfig(max_tokens=store_tokens))
    store = _tiled_store(small.keys, small.values, big_store)
    config = KnnLMConfig(lam=0.25, k=16, temperature=10.0)
    t_lm = median_seconds(lambda: score_ids(model, held_ids), device, repeats)
    t_knn = median_seconds(lambda: knn_lm_from_scores(store, score_ids(model, held_ids), config), device, repeats)
    n = len(held_ids) - 1
    rows.append(
        _row(
            f"kNN-LM evaluation, {big_store:,}-entry datastore",
            n / t_knn,
            n / t_lm,
            "tokens/s",
            f"{n} held-out tokens, k = 16, exact faiss search on the CPU; reference: the LM alone; goal ≥ 0.5×. "
            f"Keys: {len(small):,} real ones tiled with noise",
        )
    )
    queries = np.ascontiguousarray(small.keys[:256])

    def numpy_search():
        distances = (queries**2).sum(1)[:, None] - 2 * queries @ store.keys.T + (store.keys**2).sum(1)[None]
        top = np.argpartition(distances, 16, axis=1)[:, :16]
        order = np.take_along_axis(distances, top, 1).argsort(1)
        return np.take_along_axis(top, order, 1)

    same = float(np.mean(np.sort(store.search(queries, 16)[1], 1) == np.sort(numpy_search(), 1)))
    t_faiss = median_seconds(lambda: store.search(queries, 16), repeats=repeats)
    t_numpy = median_seconds(numpy_search, repeats=repeats)
    rows.append(
        _row(
            f"exact 16-NN search over {big_store:,} keys (d = {store.keys.shape[1]})",
            len(queries) / t_faiss,
            len(queries) / t_numpy,
            "queries/s",
            f"faiss IndexFlatL2 against numpy brute force, batches of {len(queries)}; same neighbours: {same:.1%}",
        )
    )
    return rows


def bm25_rows(repeats: int) -> list[dict]:
    from rank_bm25 import BM25Okapi

    from models.retrieval import QUESTIONS, Retriever, bm25_tokens, wiki_passages

    texts = [p.full_text() for p in wiki_passages(64, 6)]
    ours = Retriever.build(texts, "bm25")
    theirs = BM25Okapi([bm25_tokens(t) for t in texts], k1=1.5, b=0.75)
    queries = [bm25_tokens(q.question) for q in QUESTIONS]
    t_ours = median_seconds(lambda: [ours.index.get_scores(q) for q in queries], repeats=repeats)
    t_theirs = median_seconds(lambda: [theirs.get_scores(q) for q in queries], repeats=repeats)
    note = f"{len(texts)} passages of 64 words, {len(queries)} questions; bm25s (sparse matrix) vs rank-bm25 (Python)"
    return [_row("BM25 scoring of every passage", len(queries) / t_ours, len(queries) / t_theirs, "queries/s", note)]


def run(quick: bool = True, device: str = "cpu") -> list[dict]:
    repeats = 3 if quick else 10
    store_tokens, eval_tokens = (512, 256) if quick else (4096, 512)
    return lm_rows(device, store_tokens, eval_tokens, 100_000, repeats) + bm25_rows(repeats)


if __name__ == "__main__":
    for row in run(quick=True):
        print(row)
