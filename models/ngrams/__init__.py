"""N-gram smoothing: the model code behind app/lessons/ngrams/ (pure torch/numpy, no Streamlit).

- `arpa`: Write an interpolated n-gram model as an ARPA back-off file (the format of SRILM, KenLM and Kaldi).
- `counts`: N-gram counts of every order, counted once with numpy, shared by all smoothings.
- `curves`: Held-out perplexity curves for the n-gram lesson: against the order, add-k's k and the discount.
- `model`: N-gram language models: count, smooth, score, generate, export to ARPA.
- `smoothing`: Smoothing: turn n-gram counts (models/ngrams/counts.py) into tables that score any word after any context.

The names below load their module on first use: `from models.ngrams import BOS` is `from models.ngrams.counts import BOS`.
"""

from models.lazy import exports

_API = {  # name -> the module that defines it
    "BOS": "counts",
    "BOS_ID": "counts",
    "EOS": "counts",
    "NGramCounts": "counts",
    "NGramLookup": "counts",
    "UNK": "counts",
    "perplexity_by_discount": "curves",
    "perplexity_by_k": "curves",
    "perplexity_by_order": "curves",
    "NGramConfig": "model",
    "NGramLM": "model",
    "TokenScore": "model",
    "same_vocabulary": "model",
    "SMOOTHINGS": "smoothing",
}
__all__ = sorted(_API)
__getattr__ = exports(__name__, _API)
