"""Attention: the model code behind app/lessons/attention/ (pure torch/numpy, no Streamlit).

- `mechanism`: Scaled dot-product attention and multi-head attention, written out step by step.
- `positional`: Positional information for attention: sinusoidal, learned, RoPE and ALiBi.
- `probes`: Read attention out of real transformers models, and measure what each head does.
- `tiny_transformer`: A tiny transformer trained live on toy tasks, to see attention learn.

The names below load their module on first use: `from models.attention import MultiHeadAttention` is `from models.attention.mechanism import MultiHeadAttention`.
"""

from models.lazy import exports

_API = {  # name -> the module that defines it
    "MultiHeadAttention": "mechanism",
    "attention_steps": "mechanism",
    "scaled_dot_product_attention": "mechanism",
    "alibi_bias": "positional",
    "alibi_slopes": "positional",
    "apply_rope": "positional",
    "position_similarity": "positional",
    "rope_cos_sin": "positional",
    "rope_score_against_distance": "positional",
    "similarity_against_distance": "positional",
    "sinusoidal_positions": "positional",
    "AttentionTrace": "probes",
    "attention_by_offset": "probes",
    "attention_for_ids": "probes",
    "extract_attention": "probes",
    "head_measures": "probes",
    "induction_score": "probes",
    "induction_sequence": "probes",
    "POSITIONAL_SCHEMES": "tiny_transformer",
    "TinyTrainer": "tiny_transformer",
    "TinyTransformerConfig": "tiny_transformer",
    "make_task": "tiny_transformer",
}
__all__ = sorted(_API)
__getattr__ = exports(__name__, _API)
