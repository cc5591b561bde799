"""What the retrieval lesson's tabs compute, with no Streamlit calls: datastores and held-out scores of SmolLM2,
passages indexed by BM25 and MiniLM, RAG comparisons.

Named corpora and the default questions are deterministic functions of the settings: the tabs compute them once per
server (`page.shared(..., read_only=True)`: a datastore is a faiss index, shared, never changed). A student's own text
is computed in their session only.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from app.resources import shared_corpus_text, shared_model
from models.registry import cache_dir
from models.retrieval import (
    QUESTIONS,
    Datastore,
    DatastoreConfig,
    Retriever,
    TextScores,
    compare_conditions,
    gold_passage,
    perplexity_grid,
    score_ids,
    wiki_passages,
)
from models.text import check_text

CORPORA = {
    "wiki": "Wikipedia sample (Anarchism, Autism, …)",
    "lee": "Lee news corpus",
    "toy": "Toy world (generated)",
    "user": "Your own text",
}
LAMBDAS = np.round(np.linspace(0, 1, 21), 2)  # the λ axis of the curves
KS = [1, 4, 16, 64, 256]  # one curve per k
MIN_USER_TOKENS = 64
MAX_USER_CHARS = 200_000


def smollm2(device: str):
    return shared_model("smollm2", device)


def _corpus_ids(tokenizer, text: str, n_tokens: int) -> list[int]:
    """The first n_tokens tokens of `text` (only a prefix is tokenised: the corpora are megabytes long)."""
    chars = n_tokens * 6
    while True:
        ids = tokenizer(text[:chars], add_special_tokens=False)["input_ids"]
        if len(ids) > n_tokens or chars >= len(text):
            return ids[:n_tokens]
        chars *= 2


def split_tokens(ids: list[int], n_store: int, n_eval: int, user: bool) -> tuple[list[int], list[int]]:
    """(datastore tokens, held-out tokens): n_store entries (n_store + 1 tokens) and n_eval predicted tokens
    (n_eval + 1). A named corpus: its first tokens, then the ones right after. A student's text: the last quarter
    (at most n_eval) is held out, the rest (at most n_store) is the datastore."""
    if not user:
        if len(ids) < n_store + n_eval + 2:
            raise ValueError(f"This corpus has only {len(ids):,} tokens: use fewer datastore or held-out tokens.")
        return ids[: n_store + 1], ids[n_store + 1 : n_store + n_eval + 2]
    if len(ids) < MIN_USER_TOKENS:
        raise ValueError(
            f"Your text has {len(ids)} tokens; at least {MIN_USER_TOKENS} are needed (three quarters for the "
            "datastore, a quarter held out)."
        )
    held = min(n_eval + 1, len(ids) // 4)
    return ids[: len(ids) - held][-(n_store + 1) :], ids[len(ids) - held :]


def corpus_split(corpus: str, n_store: int, n_eval: int, device: str, text: str = "") -> tuple[list, list]:
    _, tokenizer = smollm2(device)
    if corpus == "user":
        text = check_text(text, max_chars=MAX_USER_CHARS)
        return split_tokens(tokenizer(text, add_special_tokens=False)["input_ids"], n_store, n_eval, user=True)
    if corpus not in CORPORA:
        raise ValueError(f"Unknown corpus {corpus!r}; choose one of: {', '.join(CORPORA)}.")
    ids = _corpus_ids(tokenizer, shared_corpus_text(corpus), n_store + n_eval + 2)
    return split_tokens(ids, n_store, n_eval, user=False)


@dataclass
class KnnData:
    store: Datastore
    scores: TextScores  # the held-out text read by the LM alone
    label: str


def knn_data(corpus: str, n_store: int, n_eval: int, window: int, device: str, text: str = "") -> KnnData:
    """The datastore and the held-out scores for a corpus: one forward pass over each."""
    model, _ = smollm2(device)
    store_ids, held_ids = corpus_split(corpus, n_store, n_eval, device, text)
    config = DatastoreConfig(max_tokens=n_store, window=window)
    store = Datastore.build_from_ids(model, [store_ids], config)
    return KnnData(store, score_ids(model, held_ids, window), CORPORA.get(corpus, corpus))


def grid(data: KnnData, temperature: float) -> np.ndarray:
    """(len(KS), len(LAMBDAS)) perplexity of the held-out text for every k and λ."""
    ks = [k for k in KS if k <= len(data.store)]
    return perplexity_grid(data.store, data.scores, LAMBDAS, ks, temperature)


def size_curve(data: KnnData, lam: float, k: int, temperature: float, points: int = 7) -> list[dict]:
    """Perplexity with the datastore's first n entries, for n from 1/64 of it to all of it (the same keys)."""
    from models.retrieval import KnnLMConfig, knn_lm_from_scores

    n_max = len(data.store)
    sizes = sorted({max(k, int(n_max / 2**i)) for i in range(points)})
    rows = []
    for n in sizes:
        result = knn_lm_from_scores(data.store.subset(n), data.scores, KnnLMConfig(lam, k, temperature))
        rows.append({"tokens": n, "MB": n * data.store.keys.shape[1] * 4 / 1e6, "perplexity": result.perplexity})
    return rows


# ---------------------------------------------------------------------------------------------- retrieval
@dataclass
class Pool:
    passages: list  # [Passage]
    texts: list[str]  # what is indexed: "Title: text"
    bm25: Retriever
    dense: Retriever
    gold: list[int | None]  # per question in QUESTIONS


def pool(words: int, per_article: int, device: str) -> Pool:
    """The Wikipedia sample's first passages, indexed both ways (MiniLM encodes every passage once)."""
    passages = wiki_passages(words, per_article)
    texts = [p.full_text() for p in passages]
    encoder = shared_model("minilm", device)
    bm25 = Retriever.build(texts, "bm25")
    dense = Retriever.build(texts, "dense", encoder=encoder, cache=cache_dir() / "passage-vectors")
    return Pool(passages, texts, bm25, dense, [gold_passage(passages, q) for q in QUESTIONS])


def recall_at_k(key: tuple, _pool: Pool, max_k: int = 10) -> list[dict]:
    """For each retriever and k: the share of questions whose gold passage is in the top k (`key`: the settings
    that built `_pool`, which rides along unhashed)."""
    rows = []
    for name, retriever in (("BM25", _pool.bm25), ("dense (MiniLM)", _pool.dense)):
        ranks = []
        for question, gold in zip(QUESTIONS, _pool.gold):
            scores = retriever.scores(question.question)
            ranks.append(int((scores > scores[gold]).sum()) + 1)  # 1 = first
        for k in range(1, max_k + 1):
            rows.append({"retriever": name, "k": k, "recall": float(np.mean([r <= k for r in ranks]))})
    return rows


def distractor(data: Pool, retriever: Retriever, question, gold: int | None) -> int | None:
    """The best-scoring passage from another article than the gold one: a real, retrieved distractor."""
    scores = retriever.scores(question.question)
    for i in np.argsort(-scores, kind="stable"):
        if data.passages[i].title != question.title and i != gold:
            return int(i)
    return None


def rag_table(words: int, per_article: int, question_index: int, kind: str, k: int, device: str, _pool: Pool):
    """The RAG conditions for one of the lesson's questions (models/retrieval/rag.py), keyed by the settings that
    built `_pool` (not hashed: the pool rides along)."""
    question = QUESTIONS[question_index]
    retriever = _pool.bm25 if kind == "bm25" else _pool.dense
    gold = _pool.gold[question_index]
    retrieved = [i for i, _ in retriever.search(question.question, k)]
    wrong = distractor(_pool, retriever, question, gold)
    model, tokenizer = smollm2(device)
    return compare_conditions(model, tokenizer, question.question, question.answer, _pool.texts, retrieved, gold, wrong)


class AccuracySweep:
    """Every lesson question answered greedily with its top k passages, for each k: one (k, question) a step.

    The live-training kit drives it (a step is one greedy answer, a second or two on a CPU); `rows()` is the
    exact-match accuracy and mean log p(answer) per k so far.
    """

    def __init__(self, _pool: Pool, kind: str, ks: tuple[int, ...], device: str):
        self.pool, self.kind, self.device = _pool, kind, device
        self.cells = [(k, q) for k in ks for q in range(len(QUESTIONS))]
        self.results: list[dict] = []
        self.done = False

    def train_steps(self, n: int) -> dict:
        from models.retrieval import answer_logprobs, greedy_answer
        from models.retrieval.passages import answer_in

        model, tokenizer = smollm2(self.device)
        retriever = self.pool.bm25 if self.kind == "bm25" else self.pool.dense
        for _ in range(n):
            if len(self.results) >= len(self.cells):
                break
            k, q = self.cells[len(self.results)]
            question = QUESTIONS[q]
            texts = [self.pool.texts[i] for i, _ in retriever.search(question.question, k)] if k else []
            said = greedy_answer(model, tokenizer, question.question, texts)
            score = answer_logprobs(model, tokenizer, question.question, question.answer, texts)
            self.results.append(
                {
                    "k": k,
                    "question": q,
                    "correct": answer_in(question.answer, said),
                    "logprob": score.logprob,
                    "answer": said,
                }
            )
        self.done = len(self.results) >= len(self.cells)
        last = self.results[-1] if self.results else {"correct": False, "logprob": 0.0}
        return {
            "exact match so far": float(np.mean([r["correct"] for r in self.results] or [0.0])),
            "log p(answer)": float(last["logprob"]),
        }

    def rows(self, retriever_name: str) -> list[dict]:
        out = []
        for k in sorted({r["k"] for r in self.results}):
            part = [r for r in self.results if r["k"] == k]
            out.append(
                {
                    "retriever": retriever_name,
                    "k": k,
                    "questions": len(part),
                    "accuracy": float(np.mean([r["correct"] for r in part])),
                    "mean log p(answer)": float(np.mean([r["logprob"] for r in part])),
                }
            )
        return out
