"""Long context (Lecture 13): the model code, pure torch (no Streamlit).

- `rope_scaling`: RoPE's frequencies under default, linear (PI), dynamic (NTK), YaRN and Llama 3 scaling.
- `extrapolation`: a tiny character-level transformer per position scheme, trained short and read long.
- `needle`: needle in a haystack on the tiny model: accuracy by length and depth.
- `patterns`: sparse attention masks, their cost and reach, sparse and block-sparse attention equal to SDPA,
  Linformer.
- `smollm2_scaling`: SmolLM2's loss by position with each RoPE scaling (our cos/sin in its own layers).
- `lost_middle`: the KV lesson's needle on SmolLM2 at each depth of one context (lost in the middle).

    from models.long_context import rope_inv_freq, PositionConfig, LengthTrainer, attention_pattern
    inv_freq, attention_scale = rope_inv_freq(64, 10000.0, {"rope_type": "yarn", "factor": 4.0,
                                                            "original_max_position_embeddings": 2048})
    trainer = LengthTrainer(text, PositionConfig(positional="rope", train_len=64), seed=0)
    trainer.train_steps(50)
    trainer.loss_by_length([64, 128, 256])
    mask = attention_pattern("longformer", length=256, window=16, global_tokens=[0])  # bool (T, T)
"""

from models.lazy import exports

_API = {  # name -> the module that defines it
    "POSITIONAL": "extrapolation",
    "LengthTrainer": "extrapolation",
    "PositionConfig": "extrapolation",
    "SchemeComparison": "extrapolation",
    "NeedleComparison": "needle",
    "NeedleTrainer": "needle",
    "MiddleConfig": "lost_middle",
    "PATTERNS": "patterns",
    "SmolScalingConfig": "smollm2_scaling",
    "attention_pattern": "patterns",
    "block_sparse_attention": "patterns",
    "sparse_attention": "patterns",
    "ROPE_TYPES": "rope_scaling",
    "rope_inv_freq": "rope_scaling",
}
__all__ = sorted(_API)
__getattr__ = exports(__name__, _API)
