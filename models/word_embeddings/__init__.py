"""Word embeddings: the model code behind app/lessons/word_embeddings/ (pure torch/numpy, no Streamlit).

- `engine`: The fast engine behind models/word_embeddings/word2vec.py: the same update, applied to batches of examples.
- `evaluation`: Word vectors and how to judge them: neighbours, 3CosAdd analogies, word-similarity benchmarks.
- `word2vec`: Word2vec: skip-gram and CBOW with negative sampling, the textbook update.

The names below load their module on first use: `from models.word_embeddings import Word2VecTrainer` is `from models.word_embeddings.engine import Word2VecTrainer`.
"""

from models.lazy import exports

_API = {  # name -> the module that defines it
    "Word2VecTrainer": "engine",
    "train_word2vec": "engine",
    "KeyedVectors": "evaluation",
    "evaluate_analogies": "evaluation",
    "evaluate_word_pairs": "evaluation",
    "explain_pair": "evaluation",
    "train_gensim_reference": "evaluation",
    "Word2VecConfig": "word2vec",
    "keep_probabilities": "word2vec",
    "noise_distribution": "word2vec",
}
__all__ = sorted(_API)
__getattr__ = exports(__name__, _API)
