"""Retrieval-augmented LMs (Lecture 15): the model code, pure torch, numpy and faiss (no Streamlit).

    from models.retrieval import Datastore, knn_lm_eval, Retriever, rag_answer_logprob
    store = Datastore.build(model, tokenizer, texts)   # keys: the last layer's FFN input; values: the next token
    res = knn_lm_eval(model, tokenizer, store, text, lam=0.25, k=16, temperature=1.0)
    res.perplexity, res.perplexity_lm, res.neighbours  # neighbours: (T, k) the stored contexts that fired
    retriever = Retriever.build(passages, kind="bm25")  # or kind="dense", encoder=(minilm, tokenizer)
    retriever.search(query, k=3)                        # [(passage index, score)], best first
    rag_answer_logprob(model, tokenizer, question, answer, passages=[...])  # log p(answer | passages, question)

datastore.py (keys, faiss), knn_lm.py (the mixture), retriever.py (BM25, dense), passages.py (the Wikipedia
sample as passages, questions), rag.py (answers with and without passages), placement.py (what each place costs).
"""

from models.retrieval.datastore import Datastore, DatastoreConfig, check_size, context_vectors
from models.retrieval.knn_lm import (
    KnnLMConfig,
    KnnLMResult,
    TextScores,
    knn_distribution,
    knn_lm_eval,
    knn_lm_from_scores,
    knn_probabilities,
    mix,
    perplexity_grid,
    score_ids,
    score_text,
)
from models.retrieval.passages import QUESTIONS, Passage, Question, gold_passage, wiki_passages
from models.retrieval.rag import answer_logprobs, compare_conditions, greedy_answer, rag_answer_logprob, rag_prompt
from models.retrieval.retriever import BM25Config, Retriever, agreement, bm25_scores, bm25_tokens

__all__ = [
    "BM25Config",
    "Datastore",
    "DatastoreConfig",
    "KnnLMConfig",
    "KnnLMResult",
    "Passage",
    "QUESTIONS",
    "Question",
    "Retriever",
    "TextScores",
    "agreement",
    "answer_logprobs",
    "bm25_scores",
    "bm25_tokens",
    "check_size",
    "compare_conditions",
    "context_vectors",
    "gold_passage",
    "greedy_answer",
    "knn_distribution",
    "knn_lm_eval",
    "knn_lm_from_scores",
    "knn_probabilities",
    "mix",
    "perplexity_grid",
    "rag_answer_logprob",
    "rag_prompt",
    "score_ids",
    "score_text",
    "wiki_passages",
]
