"""Next-token explorer: the model code behind app/lessons/next_token/ (pure torch/numpy, no Streamlit).

- `sampling`: Next-token prediction and the sampling filters: temperature, top-k and top-p (nucleus) sampling.

The names below load their module on first use: `from models.next_token import NextTokenResult` is `from models.next_token.sampling import NextTokenResult`.
"""

from models.lazy import exports

_API = {  # name -> the module that defines it
    "NextTokenResult": "sampling",
    "SamplingConfig": "sampling",
    "encode_prompt": "sampling",
    "filter_logits": "sampling",
    "next_token": "sampling",
    "sample_continuation": "sampling",
    "token_pieces": "sampling",
}
__all__ = sorted(_API)
__getattr__ = exports(__name__, _API)
