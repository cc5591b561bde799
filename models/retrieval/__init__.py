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

from models.lazy import exports

_API = {  # name -> the module that defines it
    "Datastore": "datastore",
    "DatastoreConfig": "datastore",
    "check_size": "datastore",
    "context_vectors": "datastore",
    "KnnLMConfig": "knn_lm",
    "KnnLMResult": "knn_lm",
    "TextScores": "knn_lm",
    "knn_distribution": "knn_lm",
    "knn_lm_eval": "knn_lm",
    "knn_lm_from_scores": "knn_lm",
    "knn_probabilities": "knn_lm",
    "mix": "knn_lm",
    "perplexity_grid": "knn_lm",
    "score_ids": "knn_lm",
    "score_text": "knn_lm",
    "QUESTIONS": "passages",
    "Passage": "passages",
    "Question": "passages",
    "gold_passage": "passages",
    "wiki_passages": "passages",
    "answer_logprobs": "rag",
    "compare_conditions": "rag",
    "greedy_answer": "rag",
    "rag_answer_logprob": "rag",
    "rag_prompt": "rag",
    "BM25Config": "retriever",
    "Retriever": "retriever",
    "agreement": "retriever",
    "bm25_scores": "retriever",
    "bm25_tokens": "retriever",
}
__all__ = sorted(_API)
__getattr__ = exports(__name__, _API)
