"""KV cache and eviction: the model code behind app/lessons/kv_cache/ (pure torch/numpy, no Streamlit).

- `cache`: A KV cache you can prune: teacher-forced decoding of a text through a Llama-style model, budget enforced.
- `compare`: Several budgeted decodes of one text, one after another, a step at a time (for the live-training kit).
- `needle`: Needle in a haystack: can the model still find a fact once its KV cache is held to a budget?
- `policies`: KV-cache eviction policies: which cached tokens to keep when the cache must shrink to a budget.
- `reasoning`: A repetitive reasoning trace: the kind of text R-KV was designed for, built in code (deterministic).
- `quant`: Fewer bits per cached value instead of fewer tokens: int8 / int4 KV-cache quantisation as KIVI does it.

The names below load their module on first use: `from models.kv_cache import BudgetResult` is `from models.kv_cache.cache import BudgetResult`.
"""

from models.lazy import exports

_API = {  # name -> the module that defines it
    "AT_PREFILL": "cache",
    "BudgetResult": "cache",
    "FullCache": "cache",
    "KVCacheConfig": "cache",
    "POLICY_NAMES": "cache",
    "cache_bytes_formula": "cache",
    "full_cache_losses": "cache",
    "make_policy": "cache",
    "run_with_budget": "cache",
    "Job": "compare",
    "PolicyComparison": "compare",
    "comparison_jobs": "compare",
    "sweep_jobs": "compare",
    "ANSWER": "needle",
    "NEEDLE": "needle",
    "NeedleConfig": "needle",
    "NeedleSearch": "needle",
    "QUESTION": "needle",
    "filler_ids": "needle",
    "reasoning_trace": "reasoning",
}
__all__ = sorted(_API)
__getattr__ = exports(__name__, _API)
