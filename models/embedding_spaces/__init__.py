"""Pretrained embedding spaces: the model code behind app/lessons/embedding_spaces/ (pure torch/numpy, no Streamlit).

- `spaces`: The embedding spaces of pretrained models: static token vectors, contextual vectors, sentence vectors.

The names below load their module on first use: `from models.embedding_spaces import TokenEmbeddingSpace` is `from models.embedding_spaces.spaces import TokenEmbeddingSpace`.
"""

from models.lazy import exports

_API = {  # name -> the module that defines it
    "TokenEmbeddingSpace": "spaces",
    "cosine_matrix": "spaces",
    "semantic_search": "spaces",
    "sense_cosines": "spaces",
    "sentence_embeddings": "spaces",
    "word_occurrences": "spaces",
}
__all__ = sorted(_API)
__getattr__ = exports(__name__, _API)
